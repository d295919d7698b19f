"""One configuration end to end on the synthetic benchmark with tiny encoders."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from radsweep.errors import FeatureCacheError, TrainingError
from radsweep.features import reading
from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import run_configuration
from radsweep.runs.heads import HEADS_FILE, heads_folder
from radsweep.settings import Settings
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.training.optim import StackedAdam
from tests.features.doubles import poison


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


def test_seeds_in_chunks_keep_the_run_key_and_the_numbers(
    folders: Settings, tmp_path: Path
) -> None:
    """``seed_chunk`` (``train --seed-chunk``, RADSWEEP_SEED_CHUNK) cuts the steps, never the
    key: one seed at a time records what one pass records, heads included."""
    whole = run_configuration(
        _config("distill"), folders, device="cpu", store=ResultsStore(tmp_path / "a.sqlite")
    )
    chunked_store = ResultsStore(tmp_path / "b.sqlite")
    one_by_one = folders.model_copy(update={"seed_chunk": 1})
    chunked = run_configuration(_config("distill"), one_by_one, device="cpu", store=chunked_store)
    assert chunked.key == whole.key and chunked.result is not None and whole.result is not None
    assert chunked.result.config.seed_chunk == 1
    # what ran is in each run's meta (the baseline's too), outside the key
    for store, stages in [
        (ResultsStore(tmp_path / "a.sqlite"), {"teacher": [2], "student": [2]}),
        (chunked_store, {"teacher": [1], "student": [1]}),
    ]:
        meta = store.runs().set_index("run_key")["meta"].map(json.loads)
        assert meta[whole.key]["seed_chunks"] == stages
        assert meta[whole.baseline_key]["seed_chunks"] == {"model": stages["student"]}
    np.testing.assert_allclose(chunked.result.model.auc, whole.result.model.auc, atol=2e-5)
    assert chunked.baseline_auc is not None and whole.baseline_auc is not None
    np.testing.assert_allclose(chunked.baseline_auc, whole.baseline_auc, atol=2e-5)
    heads = [
        load_file(str(heads_folder(path, whole.key) / HEADS_FILE))
        for path in (tmp_path / "a.sqlite", tmp_path / "b.sqlite")
    ]
    assert heads[0].keys() == heads[1].keys()
    for name, value in heads[0].items():
        torch.testing.assert_close(heads[1][name], value, atol=1e-5, rtol=1e-5)


def test_an_adam_update_out_of_memory_fails_in_one_line_and_records_nothing(
    folders: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory (injected)")

    monkeypatch.setattr(StackedAdam, "step", out_of_memory)
    store = ResultsStore(tmp_path / "results.sqlite")
    with pytest.raises(TrainingError, match="the Adam update of the model stage") as raised:
        run_configuration(_config("image"), folders, device="cpu", store=store)
    assert "--seed-chunk" in raised.value.one_line() and "\n" not in raised.value.one_line()
    assert store.runs().empty and not (tmp_path / "heads").exists()


def test_runs_on_recorded_caches_skip_the_finite_check_and_a_poisoned_cache_still_fails(
    folders: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extraction records its caches finite, so a later run process reads nothing for the
    check (the check is made to fail if called); a cache changed since is checked again."""
    store = ResultsStore(tmp_path / "results.sqlite")
    first = run_configuration(_config("image"), folders, device="cpu", store=store)
    (key,) = first.cache_keys

    def unexpected(array: np.ndarray, axis: int) -> None:
        raise AssertionError("the finite check read a cache recorded finite")

    with monkeypatch.context() as patch:
        patch.setattr(reading, "_finite_files", set())  # a new run process
        patch.setattr(reading, "nonfinite_samples", unexpected)
        second = run_configuration(_config("image", lr=1e-3), folders, device="cpu", store=store)
    assert second.result is not None
    poison(folders.cache / "features" / key / "tokens.npy", [0])
    monkeypatch.setattr(reading, "_finite_files", set())
    with pytest.raises(FeatureCacheError, match=r"tokens\.npy holds NaN/inf values") as caught:
        run_configuration(_config("image", lr=3e-4), folders, device="cpu", store=store)
    assert "\n" not in str(caught.value) and len(store.runs()) == 2
