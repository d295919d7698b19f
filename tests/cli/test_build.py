from pathlib import Path

import pandas as pd
import pytest

from radsweep.cli.main import cli
from radsweep.imaging import drr
from radsweep.tasks.catalogue import STUDY_TASKS
from tests.tasks.builders.fixtures import CT, Image, Study, positive, write_inspect, write_mimic_cxr


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line the CLI printed for a user error."""
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _mimic(tmp_path: Path) -> tuple[Path, Path]:
    studies = [
        Study(f"1{n:07d}", f"5{n:07d}", [Image(f"{n:08x}-0000")], positive(name))
        for n, name in enumerate(STUDY_TASKS["mimic-5x1200"].classes * 3, start=1)
    ]
    return write_mimic_cxr(tmp_path, studies)


def test_build_mimic_5x1200_into_the_data_folder(
    tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jpg, reports = _mimic(tmp_path)
    args = ["data", "build", "mimic-5x1200", "--mimic-cxr-jpg", str(jpg)]
    args += ["--mimic-cxr-reports", str(reports), "--per-class", "2", "--eval-per-class", "1"]
    assert cli([*args, "--rule", "strict", "--seed", "4"]) == 0
    output = capsys.readouterr().out
    assert "built mimic-5x1200" in output and "10 samples" in output
    frame = pd.read_parquet(isolated_home / "data" / "mimic-5x1200" / "manifest.parquet")
    assert len(frame) == 10 and set(frame["pool"]) == {"train", "eval"}


def test_build_pe_from_inspect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cts = [CT(n, f"80{n:02d}", {"pe_positive_nlp": "TRUE" if n < 2 else "FALSE"}) for n in range(6)]
    root = write_inspect(tmp_path / "inspect", cts)
    out = tmp_path / "tasks" / "pe"
    args = ["data", "build", "pe", "--inspect", str(root), "--out", str(out), "--drr", "numpy"]
    assert cli([*args, "--pixels", "32", "--workers", "1"]) == 0
    assert "built pe" in capsys.readouterr().out
    assert len(list((tmp_path / "tasks" / "inspect-drr").glob("*.jpg"))) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mimic-5x1200"], "missing option --mimic-cxr-jpg — pass the MIMIC-CXR-JPG"),
        (["age", "--mimic-cxr-jpg", "/nowhere"], "--mimic-cxr-jpg /nowhere does not exist"),
        (["pe"], "missing option --inspect"),
        (["pe", "--inspect", "{tmp}"], "holds neither INSPECT layout"),
        (["mimic-5x1200", "--mimic-cxr-jpg", "{tmp}", "--mimic-cxr-reports", "{tmp}"],
         "mimic-cxr-2.0.0-metadata.csv.gz — expected layout: the MIMIC-CXR-JPG"),
        (["12-month-ph", "--inspect", "{tmp}", "--sad", "-5"], "invalid sad_mm"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    assert cli(["data", "build", *args]) == 2
    assert message in _error(capsys)


def test_age_needs_mimic_iv_and_sane_bins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jpg, reports = _mimic(tmp_path)
    base = [
        "data",
        "build",
        "age",
        "--mimic-cxr-jpg",
        str(jpg),
        "--mimic-cxr-reports",
        str(reports),
    ]
    assert cli(base) == 2
    assert "missing option --mimic-iv" in _error(capsys)
    for bins, message in (("40,x", "whole years"), ("55,40", "strictly increasing")):
        assert cli([*base, "--mimic-iv", str(tmp_path), "--age-bins", bins]) == 2
        assert message in _error(capsys)


def test_missing_column_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jpg, reports = _mimic(tmp_path)
    metadata = jpg / "mimic-cxr-2.0.0-metadata.csv.gz"
    pd.read_csv(metadata).drop(columns="ViewPosition").to_csv(metadata, index=False)
    args = ["--mimic-cxr-jpg", str(jpg), "--mimic-cxr-reports", str(reports)]
    assert cli(["data", "build", "mimic-5x1200", *args]) == 2
    assert "mimic-cxr-2.0.0-metadata.csv.gz lacks column(s) ViewPosition" in _error(capsys)


def test_plastimatch_requested_but_absent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drr, "plastimatch_binary", lambda: None)
    root = write_inspect(tmp_path / "inspect", [CT(1, "8001", {})])
    assert cli(["data", "build", "pe", "--inspect", str(root), "--drr", "plastimatch"]) == 2
    assert "plastimatch program is not installed" in _error(capsys)
