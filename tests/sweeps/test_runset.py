"""Run sets: a spec's report draws the spec's runs only; a smoke test at one of its grid points
and another benchmark whose task has the same name are listed, never drawn."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from radsweep.reports.build import make_report
from radsweep.results.findings import paired_findings
from radsweep.results.frames import ResultFrames
from radsweep.results.runset import select
from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig, run_key
from radsweep.sweeps.runset import filter_run_set, report_run_sets, spec_run_set
from radsweep.tasks.identity import task_digest
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.tasks.synthetic.tasks import SYNTHETIC_TASKS
from tests.results.sweep import fit_result

TASK = "synth-prognostic"
GRID = {
    "task": {"value": TASK},
    "backbone": {"value": "c2l"},
    "method": {"values": ["image", "distill", "self-distill"]},
    "fraction": {"values": [0.1, 0.5]},
    "seeds": {"value": [0, 1, 2]},
    "epochs": {"value": 4},
}


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "grid.yaml"
    config = {"method": "grid", "metric": {"name": "auc/final/mean", "goal": "maximize"}}
    path.write_text(yaml.safe_dump({**config, "parameters": GRID}))
    return path


def _record(store: ResultsStore, config: RunConfig, digest: str, cache: str) -> str:
    resolved = config.resolve(SYNTHETIC_TASKS[TASK])
    key = run_key(resolved, [cache])
    meta = {"seconds": 1.0, "task_digest": digest}
    store.record(key, resolved, fit_result(resolved), [cache], meta)
    return key


def _fill(store: ResultsStore, digest: str, cache: str, **changes: object) -> list[str]:
    keys = []
    for method in ("image", "distill", "self-distill"):
        for fraction in (0.1, 0.5):
            fields = {"method": method, "fraction": fraction, "seeds": (0, 1, 2), "epochs": 4}
            config = RunConfig(task=TASK, backbone="c2l", **{**fields, **changes})  # type: ignore[arg-type]
            keys.append(_record(store, config, digest, cache))
    return keys


@pytest.fixture
def stores(tmp_path: Path, small_benchmark: SynthBenchmark) -> tuple[ResultsStore, ResultsStore]:
    """``mixed``: the spec's runs, a 2-epoch smoke test at one of its points, and the same grid
    on another benchmark; ``alone``: the spec's runs only."""
    digest = task_digest(small_benchmark.directory / TASK)
    mixed = ResultsStore(tmp_path / "mixed.sqlite")
    alone = ResultsStore(tmp_path / "alone.sqlite")
    for store in (alone, mixed):
        _fill(store, digest, "cache-here")
    smoke = RunConfig(task=TASK, backbone="c2l", fraction=0.5, seeds=(0, 1, 2), epochs=2)
    _record(mixed, smoke, digest, "cache-here")
    _fill(mixed, "0123456789ab", "cache-other", lam=0.9)
    _fill(mixed, "0123456789ab", "cache-other")
    return mixed, alone


def _data_dir(benchmark: SynthBenchmark) -> Path:
    return benchmark.directory.parent


def test_the_spec_draws_its_runs_and_lists_the_rest(
    spec: Path, stores: tuple[ResultsStore, ResultsStore], small_benchmark: SynthBenchmark
) -> None:
    mixed, alone = stores
    selection = select(
        ResultFrames.from_store(mixed), spec_run_set(spec, _data_dir(small_benchmark))
    )
    assert sorted(selection.keys) == sorted(alone.runs()["run_key"])
    reasons = [run.reason for run in selection.excluded]
    assert any("epochs 2 (the set: 4)" in reason for reason in reasons)
    assert sum("other data named synth-prognostic" in reason for reason in reasons) == 6
    assert selection.fixed["epochs"] == "4"


def test_report_figures_and_findings_equal_those_of_the_spec_runs_alone(
    spec: Path,
    stores: tuple[ResultsStore, ResultsStore],
    small_benchmark: SynthBenchmark,
    tmp_path: Path,
) -> None:
    mixed, alone = stores
    run_set = spec_run_set(spec, _data_dir(small_benchmark))
    selection = select(ResultFrames.from_store(mixed), run_set)
    drawn = make_report(selection, tmp_path / "mixed")
    reference = make_report(alone, tmp_path / "alone")
    assert {s.name for s in drawn.sections} - {s.name for s in reference.sections} == {
        "provenance",
        "left-out",
    }
    for csv in (tmp_path / "alone" / "data").glob("*.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "mixed" / "data" / csv.name), pd.read_csv(csv), obj=csv.name
        )
    found = paired_findings(selection.frames.seed_metrics)
    assert found == paired_findings(alone.seed_metrics())
    assert "What this report is built from" in (tmp_path / "mixed" / "report.html").read_text()
    stated = next(s for s in drawn.sections if s.name == "provenance").table
    assert stated is not None and "/" not in stated.to_csv()  # no machine paths


def test_filters_keep_one_dataset_per_task(
    stores: tuple[ResultsStore, ResultsStore], small_benchmark: SynthBenchmark
) -> None:
    mixed, alone = stores
    run_set = filter_run_set({"task": TASK}, _data_dir(small_benchmark))
    selection = select(ResultFrames.from_store(mixed), run_set)
    assert sorted(selection.keys) == sorted(alone.runs()["run_key"])
    smoke = [run for run in selection.excluded if "epochs 2" in run.reason]
    assert len(smoke) == 1 and "the set's other runs" in smoke[0].reason


def test_unknown_where_setting_is_one_line(small_benchmark: SynthBenchmark) -> None:
    with pytest.raises(Exception, match="unknown run setting 'epoch'"):
        filter_run_set({"epoch": "4"}, _data_dir(small_benchmark))


def test_several_sets_get_a_folder_each(
    spec: Path,
    stores: tuple[ResultsStore, ResultsStore],
    small_benchmark: SynthBenchmark,
    tmp_path: Path,
) -> None:
    mixed, _ = stores
    data = _data_dir(small_benchmark)
    sets = [spec_run_set(spec, data), filter_run_set({"lam": "0.9"}, data)]
    written, unclaimed = report_run_sets(ResultFrames.from_store(mixed), sets, tmp_path / "r", data)
    assert [item.report.path.parent.name for item in written if item.report] == ["grid", "lam_0.9"]
    assert unclaimed == 7  # the smoke test and the other benchmark's plain grid


def test_cli_draws_a_spec_and_rejects_mixed_requests(
    spec: Path,
    stores: tuple[ResultsStore, ResultsStore],
    small_benchmark: SynthBenchmark,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from radsweep.cli.main import cli

    mixed, _ = stores
    monkeypatch.setenv("RADSWEEP_DATA_DIR", str(_data_dir(small_benchmark)))
    out = tmp_path / "page"
    assert cli(["report", str(spec), "--from", str(mixed.path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "grid: 6 runs" in printed and "7 runs left out" in printed
    assert (out / "report.html").is_file()
    assert cli(["report", str(spec), "--task", TASK, "--out", str(out)]) == 2
    assert "specs or filters, not both" in capsys.readouterr().err
    assert cli(["report", "--where", "epochs", "--out", str(out)]) == 2
    assert "not KEY=VALUE" in capsys.readouterr().err
