"""One teacher for a grid: runs that differ only in τ and λ train it once, to the same numbers."""

from pathlib import Path

import numpy as np
import pytest

from radsweep.results.store import ResultsStore
from radsweep.runs.execute import RunHooks, run_configuration
from radsweep.runs.observer import RunObserver
from radsweep.runs.teacher import teacher_key
from radsweep.settings import Settings
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.training.engine import EpochEvent
from tests.runs.grid import distill_config


class _Epochs(RunObserver):
    def __init__(self) -> None:
        self.events: list[EpochEvent] = []

    def epoch_finished(self, event: EpochEvent) -> None:
        self.events.append(event)


@pytest.fixture(scope="module")
def folders(small_benchmark: SynthBenchmark, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One home for the module: its tests share the features, each keeps its own store."""
    home = tmp_path_factory.mktemp("teacher-runs")
    return Settings(home=home, data_dir=small_benchmark.directory.parent)


def test_the_key_ignores_tau_and_lambda_but_not_caches_data_or_method() -> None:
    base = distill_config(tau=0.5, lam=0.5)
    key = teacher_key(base, ["image", "text"], "digest")
    assert key is not None
    assert teacher_key(distill_config(tau=2.0, lam=0.9), ["text", "image"], "digest") == key
    assert teacher_key(base, ["image", "other-text"], "digest") != key
    assert teacher_key(base, ["image", "text"], "other-data") != key
    assert teacher_key(distill_config("self-distill", tau=0.5), ["image", "text"], "digest") != key
    assert teacher_key(distill_config(epochs=3), ["image", "text"], "digest") != key
    assert teacher_key(distill_config("image"), ["image"], "digest") is None


def _stored_rows(store: ResultsStore, key: str) -> tuple[list[float], ...]:
    seeds = store.seed_metrics(key).sort_values(["stage", "seed"])
    curves = store.curves(key)
    return tuple(
        frame[column].tolist()
        for frame, column in [(seeds, "final_auc"), (seeds, "best_epoch"), (curves, "loss")]
    )


def test_a_grid_trains_its_teacher_once_to_the_same_numbers(
    folders: Settings, tmp_path: Path
) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    first = run_configuration(distill_config(tau=0.5, lam=0.5), folders, device="cpu", store=store)
    assert len(store.teachers()) == 1
    watched = _Epochs()
    hooks = RunHooks(observer=watched)
    second_config = distill_config(tau=2.0, lam=0.8)
    second = run_configuration(second_config, folders, device="cpu", store=store, hooks=hooks)
    assert len(store.teachers()) == 1 and second.key != first.key
    teacher = [event for event in watched.events if event.stage == "teacher"]
    student = [event for event in watched.events if event.stage == "student"]
    assert len(teacher) == len(student) == 2
    assert all(event.cached for event in teacher) and not any(e.cached for e in student)
    assert first.result is not None and second.result is not None
    assert first.result.teacher is not None and second.result.teacher is not None
    np.testing.assert_array_equal(first.result.teacher.auc, second.result.teacher.auc)

    alone = ResultsStore(tmp_path / "alone.sqlite")
    trained = run_configuration(second_config, folders, device="cpu", store=alone)
    assert trained.key == second.key
    assert _stored_rows(alone, trained.key) == _stored_rows(store, second.key)
    meta = store.runs().set_index("run_key").loc[second.key, "meta"]
    assert store.teachers()["teacher_key"][0] in meta


def test_self_distillation_keeps_a_teacher_of_its_own(folders: Settings, tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    for method in ("distill", "self-distill", "image"):
        run_configuration(distill_config(method), folders, device="cpu", store=store)
    kept = store.teachers()
    assert len(kept) == 2
    assert {'"method":"distill"' in text for text in kept["identity"]} == {True, False}
