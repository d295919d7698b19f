"""One configuration end to end on the synthetic benchmark with tiny encoders."""

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import wandb
from wandb.sdk.wandb_run import Run

from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import run_configuration, run_tracked
from radsweep.settings import Settings
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
    wandb.teardown()  # W&B's service closes the run's log after finish returns
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


def test_an_unreachable_server_and_a_hanging_finish_lose_no_result(
    unreachable: str,
    tiny_features: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An online run: W&B cannot start it (offline instead), then its finish hangs (the one
    staged part: a server gone mid-run); training, the store and our W&B handling are real."""
    settings = tiny_features.model_copy(update={"home": tmp_path / "home"})
    monkeypatch.setenv("RADSWEEP_WANDB_FINISH_TIMEOUT", "1")
    release = threading.Event()
    real_finish = Run.finish

    def hang(run: Run, exit_code: int | None = None, quiet: bool | None = None) -> None:
        release.wait(60)
        real_finish(run, exit_code=exit_code, quiet=quiet)

    monkeypatch.setattr(Run, "finish", hang)
    config = RunConfig(
        task="synth-prognostic", backbone="c2l", fraction=1.0, seeds=(0, 1), epochs=1, tiny=True
    )
    started = time.monotonic()
    outcome = run_tracked(config, settings, mode="online", device="cpu")
    elapsed = time.monotonic() - started
    release.set()
    assert not outcome.skipped and outcome.result is not None
    store = ResultsStore(default_store_path(settings))
    assert list(store.runs()["run_key"]) == [outcome.key]
    assert len(store.seed_metrics(outcome.key)) == 2
    assert elapsed < 60  # init timeout 2 s + finish timeout 1 s (+ grace) + training
    fallback, hung = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert "could not start run synth-prognostic-c2l-image-f1 online" in fallback
    assert "did not finish within 1 s; its results are in the results store" in hung
    assert run_tracked(config, settings, mode="online", device="cpu").skipped
