"""A report read from W&B equals the report read from the store, on a distillation-only grid.

The τ, λ and text-encoder ablations hold no image-only point of their own: each distillation run
trains and stores its image-only baseline. W&B holds that baseline only inside the distillation
runs that logged it, and the report from W&B must still find it.
"""

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from radsweep.reports.build import build_sections
from radsweep.results.findings import paired_findings
from radsweep.results.frames import ResultFrames
from radsweep.results.runset import frames_of, select
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.settings import Settings
from radsweep.sweeps.agents import run_tracked
from radsweep.sweeps.runset import spec_run_set
from radsweep.sweeps.spec import load_and_expand
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.tracking import schema
from radsweep.tracking.reader import frames_from_wandb_runs
from tests.tracking.wandb_file import offline_runs

ABLATION = """\
name: tiny-tau-ablation
method: grid
metric: {name: auc/final/mean, goal: maximize}
program: radsweep
command: ["${env}", radsweep, sweep, run-config, --spec, tiny-tau-ablation, "${args_json}"]
parameters:
  task: {value: synth-prognostic}
  backbone: {value: c2l}
  head: {value: attention}
  method: {values: [distill, self-distill]}
  tau: {values: [0.25, 2.5]}
  text_encoder: {value: minilm}
  fraction: {value: 0.25}
  epochs: {value: 2}
  seeds: {value: [0, 1, 2]}
  tiny: {value: true}
"""


@pytest.fixture
def ablation_grid(small_benchmark: SynthBenchmark, tmp_path: Path) -> tuple[Settings, Path]:
    """A τ ablation (distillation and self-distillation only) run through the W&B observer."""
    settings = Settings(home=tmp_path / "home", data_dir=small_benchmark.directory.parent)
    spec = tmp_path / "tiny-tau-ablation.yaml"
    spec.write_text(ABLATION, encoding="utf-8")
    _, configs = load_and_expand(spec, settings.data)
    for config in configs:
        run_tracked(config, settings, mode="offline", device="cpu", group="tiny-tau-ablation")
    return settings, spec


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("run_key", "stage", "seed", "epoch") if c in frame.columns]
    return frame.sort_values(keys or list(frame.columns)).reset_index(drop=True)


def test_a_report_from_wandb_equals_the_report_from_the_store(
    ablation_grid: tuple[Settings, Path],
) -> None:
    settings, spec = ablation_grid
    logged = offline_runs(settings.wandb)
    methods = {run.config[schema.RESOLVED]["method"] for run in logged}
    assert methods == {"distill", "self-distill"} and len(logged) == 4  # no image-only run
    from_store = ResultFrames.from_store(ResultsStore(default_store_path(settings)))
    created = from_store.runs.set_index("run_key")["created_at"]  # W&B's order of creation
    runs = [run.as_wandb_run(str(created[run.config[schema.RUN_KEY]])) for run in logged]
    from_wandb = frames_from_wandb_runs(runs, "W&B project e/p")

    run_set = spec_run_set(spec, settings.data)
    chosen = [select(frames, run_set) for frames in (from_wandb, from_store)]
    assert sorted(chosen[0].keys) == sorted(chosen[1].keys) and len(chosen[1].keys) == 5  # +base
    wandb_frames, store_frames = (
        frames_of(frames, selection.keys, frames.source)
        for frames, selection in zip((from_wandb, from_store), chosen, strict=True)
    )
    same = [c for c in store_frames.seed_metrics.columns if c != "created_at"]
    pd.testing.assert_frame_equal(
        _sorted(wandb_frames.seed_metrics[same]),
        _sorted(store_frames.seed_metrics[same]),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        _sorted(wandb_frames.curves), _sorted(store_frames.curves), check_dtype=False
    )
    columns = ["run_key", "config", "cache_keys", "wandb_run_id"]
    pd.testing.assert_frame_equal(
        _sorted(wandb_frames.runs[columns]), _sorted(store_frames.runs[columns])
    )

    [found] = paired_findings(wandb_frames.seed_metrics)  # the image arm is the baseline
    assert [found] == paired_findings(store_frames.seed_metrics)

    with matplotlib.rc_context():
        sections = [build_sections(frames) for frames in (wandb_frames, store_frames)]
    assert [s.name for s in sections[0]] == [s.name for s in sections[1]]
    for ours, theirs in zip(*sections, strict=True):
        assert ours.missing == theirs.missing, ours.name
        pd.testing.assert_frame_equal(_sorted(ours.data), _sorted(theirs.data), check_dtype=False)
        if theirs.table is not None:
            assert ours.table is not None
            pd.testing.assert_frame_equal(ours.table, theirs.table, check_dtype=False)
