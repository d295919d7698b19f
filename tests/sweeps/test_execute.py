"""One configuration end to end on the synthetic benchmark with tiny encoders."""

import os
from pathlib import Path

import numpy as np
import pytest

from radsweep.results.store import ResultsStore
from radsweep.settings import Settings
from radsweep.sweeps.config import RunConfig
from radsweep.sweeps.execute import run_configuration, run_tracked
from radsweep.tasks.synthetic import SynthBenchmark


@pytest.fixture
def folders(small_benchmark: SynthBenchmark, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", data_dir=small_benchmark.directory.parent)


def _config(method: str, **extra: object) -> RunConfig:
    task = "synth-prognostic"
    return RunConfig(
        task=task,
        backbone="c2l",
        method=method,
        fraction=0.25,
        seeds=(0, 1),
        epochs=2,
        text_encoder="minilm",
        tiny=True,
        **extra,
    )


def test_a_run_is_trained_once_and_recorded(folders: Settings, tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    first = run_configuration(_config("image"), folders, device="cpu", store=store)
    assert not first.skipped and first.result is not None
    assert first.result.model.auc.shape == (2, 2)
    assert store.has(first.key)
    again = run_configuration(_config("image"), folders, device="cpu", store=store)
    assert again.skipped and again.key == first.key and again.result is None
    assert len(store.runs()) == 1


def test_distillation_records_its_image_only_baseline(folders: Settings, tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    outcome = run_configuration(_config("distill"), folders, device="cpu", store=store)
    assert outcome.result is not None and outcome.result.teacher is not None
    assert outcome.baseline_auc is not None and outcome.baseline_auc.shape == (2,)
    runs = store.runs()
    assert sorted(runs["method"]) == ["distill", "image"]
    image_only = run_configuration(_config("image"), folders, device="cpu", store=store)
    assert image_only.skipped  # the baseline was the image-only run itself
    assert len(outcome.cache_keys) == 2


def test_tracked_runs_log_curves_comparison_and_artifact_but_no_report_text(
    folders: Settings, small_benchmark: SynthBenchmark
) -> None:
    outcome = run_tracked(_config("distill"), folders, mode="offline", device="cpu")
    assert not outcome.skipped and np.isfinite(outcome.mean_auc)
    offline = list((folders.wandb / "wandb").glob("offline-run-*"))
    assert len(offline) == 1
    log = next(offline[0].glob("*.wandb")).read_bytes()
    for logged in (b"auc/final/mean", b"auc/seed_0", b"teacher/auc/mean", b"gain/auc/final"):
        assert logged in log
    assert f"curves-{outcome.key}".encode() in log  # the versioned curves artifact
    assert list(offline[0].glob("files/media/table/comparison*.table.json"))
    reports = small_benchmark.manifest("synth-prognostic").frame["report"]
    phrases = [b"FINAL REPORT", b"EXAMINATION:"] + [r.strip()[-60:].encode() for r in reports[:20]]
    roots = [folders.wandb, *(Path(os.environ[n]) for n in ("WANDB_DATA_DIR", "WANDB_DIR"))]
    for path in (p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        assert not any(phrase in content for phrase in phrases), path
    assert run_tracked(_config("distill"), folders, mode="offline", device="cpu").skipped
