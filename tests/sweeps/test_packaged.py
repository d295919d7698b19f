"""The study's specs ship with the package and are accepted by name wherever a spec is."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from radsweep.sweeps.packaged import packaged_specs, resolve_spec
from radsweep.sweeps.spec import load_spec

ROOT = Path(__file__).parents[2]
PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q")
_BUILT = shutil.ignore_patterns("__pycache__", "*.egg-info")


def test_every_top_level_spec_is_packaged() -> None:
    shipped = packaged_specs()
    assert set(shipped) == {path.stem for path in (ROOT / "sweeps").glob("*.yaml")}
    assert {"demo", "fig2-mimic-5x1200", "fig3-readmission"} <= set(shipped)


@pytest.mark.parametrize("name", ["fig2-age", "fig2-age.yaml", "sweeps/fig2-age.yaml"])
def test_a_name_resolves_to_the_packaged_spec(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no checkout here: only the package can answer
    assert resolve_spec(name) == packaged_specs()["fig2-age"]
    assert load_spec(name).name == "fig2-age"


def test_a_local_file_wins_over_a_packaged_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fig2-age.yaml").write_text("method: grid\n")
    assert resolve_spec("fig2-age.yaml") == Path("fig2-age.yaml")


def test_an_unknown_name_is_reported_as_a_missing_file() -> None:
    from radsweep.errors import SweepError

    with pytest.raises(SweepError, match="cannot read sweep spec") as raised:
        load_spec("no-such-spec")
    assert "radsweep sweep specs" in raised.value.one_line()


@pytest.mark.slow
def test_the_wheel_ships_every_study_spec(tmp_path: Path) -> None:
    """A wheel, not a checkout: what ``pip install radsweep`` gets (built from a copy, so the
    checkout gets no build folder)."""
    source = tmp_path / "source"
    for part in ("app", "sweeps"):
        shutil.copytree(ROOT / part, source / part, symlinks=True, ignore=_BUILT)
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    subprocess.run(
        [*PIP_WHEEL, str(source), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("radsweep-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"radsweep/specs/{path.name}" for path in (ROOT / "sweeps").glob("*.yaml")}
    assert expected <= names


def test_a_packaged_spec_is_named_by_its_name_not_its_installed_path() -> None:
    """The user typed ``demo``: the error says ``spec demo``, not site-packages/.../demo.yaml."""
    from radsweep.errors import SweepError
    from radsweep.sweeps.packaged import packaged_folder
    from radsweep.sweeps.spec import expand
    from radsweep.tasks.registry import KNOWN_TASKS

    near = {"synth-prognostic-x": KNOWN_TASKS["synth-prognostic"]}
    with pytest.raises(SweepError) as raised:
        expand(load_spec("demo"), near)
    line = raised.value.one_line()
    assert line.startswith("spec demo: parameter task = 'synth-")
    assert str(packaged_folder()) not in line and "did you mean synth-prognostic-x?" in line


@pytest.mark.parametrize(
    ("parameter", "typo", "meant"),
    [("epoch", 20, "epochs"), ("backbone", "pixel-patchs", "pixel-patches")],
)
def test_a_mistyped_name_in_a_spec_file_gets_a_did_you_mean(
    tmp_path: Path, parameter: str, typo: object, meant: str
) -> None:
    from radsweep.errors import SweepError
    from radsweep.sweeps.spec import expand
    from radsweep.tasks.registry import KNOWN_TASKS

    spec = tmp_path / "mine.yaml"
    spec.write_text(
        "method: grid\nparameters:\n  task: {value: synth-age}\n  fraction: {value: 0.5}\n"
        f"  {parameter}: {{value: {typo}}}\n"
    )
    with pytest.raises(SweepError) as raised:
        expand(load_spec(spec), KNOWN_TASKS)
    line = raised.value.one_line()
    assert line.startswith(f"{spec}: ") and f"did you mean {meant}?" in line
