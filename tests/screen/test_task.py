"""A real screen on a small benchmark with tiny encoders: runs, findings, limits, spec, reuse."""

from pathlib import Path

import pytest
import yaml

from radsweep.errors import RadsweepError
from radsweep.results.findings import paired_findings
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.screen import ScreenOptions, screen_task
from radsweep.screen.next_sweep import lambda_grid, tau_grid
from radsweep.settings import Settings
from radsweep.sweeps.spec import expand, load_spec, task_specs
from radsweep.tasks.registry import find_task_directory
from radsweep.tasks.spec import TaskKind
from radsweep.training.config import Method
from tests.screen.fixtures import own_caches, user_task

OPTIONS = ScreenOptions(
    task="synth-prognostic",
    backbone="c2l",
    text_encoder="minilm-sentences",  # c2l's family default is the paper's BioViL-T
    seeds=(0, 1, 2),
    fractions=(0.25, 0.5),
    epochs=2,
    lr=1e-3,
    tau=1.0,
    tiny=True,
    min_images=5,  # the tiny benchmark's pool: about 40 images per seed at fraction 0.5
    min_per_class=2,
)


@pytest.fixture
def settings(tiny_features: Settings, tmp_path: Path) -> Settings:
    """The session's tiny benchmark, with this test's own copy of its caches and results store."""
    return own_caches(tiny_features, tmp_path / "screen")


def test_a_screen_trains_the_control_and_reads_it_with_the_reports_findings(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "next.yaml"
    answer = screen_task(OPTIONS, settings, out=out, device="cpu")
    screen = answer.screen
    assert screen.fractions == (0.25, 0.5)
    methods = [(run.step.config.method, run.step.config.fraction) for run in screen.runs]
    assert methods == [
        (method, fraction)
        for fraction in (0.25, 0.5)
        for method in (Method.IMAGE, Method.DISTILL, Method.SELF_DISTILL)
    ]
    assert not any(run.reused for run in screen.runs)
    assert screen.modalities.text.n == screen.modalities.image.n == 3
    assert 0 <= screen.modalities.text.mean <= 1 and screen.modalities.train > 0

    # The control is the report's own findings function over the same stored runs.
    rows = ResultsStore(default_store_path(settings)).seed_metrics()
    assert list(screen.findings) == paired_findings(rows)
    assert [point.fraction for point in screen.headroom] == [0.25, 0.5]
    teacher = rows[(rows["method"] == "distill") & (rows["stage"] == "teacher")]
    image = rows[(rows["method"] == "image") & (rows["fraction"] == 0.25)]
    expected = (
        teacher[teacher["fraction"] == 0.25].set_index("seed")["final_auc"]
        - image.set_index("seed")["final_auc"]
    ).mean()
    assert screen.headroom[0].gain.mean == pytest.approx(expected)

    quantities = set(answer.table["quantity"])
    assert {"text only (probe)", "image+report - image (probes)", "distill - self-distill"} <= (
        quantities
    )
    assert screen.modalities.added is not None and screen.modalities.added.n == 3
    # text, joint probe, teacher, control, and the control's readability (image-only AUC and
    # half-width) at each fraction
    assert len(screen.judgement.evidence) == 2 + 1 + 2 + 2 + 2 * 2
    limits = " | ".join(screen.limits)
    assert "3 seeds" in limits and "no paired gain measured at fractions 0.05, 0.1" in limits
    assert "one τ (1) and one λ (0.5)" in limits

    spec = load_spec(out)
    assert spec.config["description"].startswith(screen.judgement.verdict.value)
    parameters = spec.parameters
    assert parameters["fraction"]["values"] == [0.05, 0.1, 0.25, 0.5, 1.0]  # the task's sizes
    assert parameters["tau"]["values"] == tau_grid(1.0) == [0.5, 1.0, 2.0]
    assert parameters["lam"]["values"] == lambda_grid(0.5) == [0.25, 0.5, 0.75]
    configs = expand(spec, task_specs(settings.data))
    assert answer.spec_runs == len(configs) == 5 + 2 * 5 * 9

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored step opened its run again")

    monkeypatch.setattr("radsweep.screen.run.run_configuration", no_run)
    again = screen_task(OPTIONS, settings, device="cpu")  # stored steps are read back by key
    assert all(run.reused for run in again.screen.runs)
    assert [run.key for run in again.screen.runs] == [run.key for run in screen.runs]
    assert again.screen.findings == screen.findings


def test_the_budget_stops_steps_from_starting(settings: Settings) -> None:
    options = OPTIONS.model_copy(update={"budget_minutes": 1e-9})
    screen = screen_task(options, settings, device="cpu").screen
    assert screen.runs == () and len(screen.not_run) == 6
    assert screen.findings == () and screen.headroom == ()
    assert "budget ran out before: image, fraction 0.25;" in " ".join(screen.limits)
    assert screen.modalities.text.n == 3  # the probes always run


def test_lambda_grid_stays_inside_the_unit_interval() -> None:
    assert lambda_grid(0.9) == [0.65, 0.9]
    assert lambda_grid(0.2) == [0.2, 0.45]
    assert tau_grid(0.25) == [0.125, 0.25, 0.5]


def test_the_written_spec_names_the_task_and_the_screens_settings(
    settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "spec.yaml"
    screen_task(OPTIONS.model_copy(update={"fractions": (0.5,)}), settings, out=out)
    text = out.read_text()
    assert text.startswith("# Written by radsweep screen synth-prognostic")
    config = yaml.safe_load(text)
    fixed = {
        name: value["value"] for name, value in config["parameters"].items() if "value" in value
    }
    assert fixed == {
        "task": "synth-prognostic",
        "backbone": "c2l",
        "text_encoder": "minilm-sentences",
        "head": "attention",
        "seeds": [0, 1, 2],
        "epochs": 2,
        "lr": 0.001,
        "tiny": True,
    }
    assert not list(tmp_path.glob(".spec.yaml.*"))  # no temporary file left behind


def test_a_task_folder_outside_the_data_folder_gets_a_note(
    settings: Settings, tmp_path: Path
) -> None:
    folder = find_task_directory("synth-prognostic", settings.data)
    elsewhere = settings.model_copy(update={"data_dir": tmp_path / "empty"})
    options = OPTIONS.model_copy(update={"task": str(folder), "fractions": (0.5,)})
    answer = screen_task(options, elsewhere, out=tmp_path / "spec.yaml")
    assert answer.screen.task.name == "synth-prognostic"
    assert answer.spec_runs == 5 + 2 * 5 * 9  # validated against the screened task itself
    assert answer.notes == (
        f"sweeps find tasks by name under {tmp_path / 'empty'}: move or link {folder} there "
        "before running the spec",
    )


def test_the_spec_keeps_fractions_the_screen_tried_outside_the_tasks_table(
    settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "spec.yaml"
    screen_task(OPTIONS.model_copy(update={"fractions": (0.4,)}), settings, out=out)
    fractions = load_spec(out).parameters["fraction"]["values"]
    assert fractions == [0.05, 0.1, 0.25, 0.4, 0.5, 1.0]


def test_a_task_without_report_text_is_a_clear_error(tmp_path: Path) -> None:
    folder = user_task(tmp_path, "images-only", samples=20, kind=TaskKind.AUXILIARY, reports=False)
    with pytest.raises(RadsweepError, match="task images-only has no report text"):
        screen_task(OPTIONS.model_copy(update={"task": str(folder)}), Settings(home=tmp_path))
