"""A τ/λ grid run in one pass: each run recorded and observed as if it had run alone."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from radsweep.errors import SweepError
from radsweep.results.store import ResultsStore
from radsweep.runs import execute, students
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import RunHooks, run_configuration
from radsweep.runs.observer import RunObserver
from radsweep.runs.outcome import RunOutcome
from radsweep.settings import Settings
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.training.engine import EpochEvent
from tests.runs.grid import grid, stored_numbers


class _Calls(RunObserver):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def run_started(self, config: RunConfig) -> None:
        self.calls.append(f"started tau={config.tau} lam={config.lam}")

    def epoch_finished(self, event: EpochEvent) -> None:
        self.calls.append(f"{event.stage} {event.epoch}")

    def stored(self, outcome: RunOutcome) -> None:
        self.calls.append(f"stored skipped={outcome.skipped}")


@pytest.fixture(scope="module")
def folders(small_benchmark: SynthBenchmark, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("student-runs")
    return Settings(home=home, data_dir=small_benchmark.directory.parent)


def test_a_grid_in_one_pass_is_recorded_and_observed_run_by_run(
    folders: Settings,
    grid_alone: dict[str, list[np.ndarray]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passes: list[int] = []
    fit_students = students.fit_students

    def counted(data, splits, configs, **options):  # type: ignore[no-untyped-def]
        passes.append(len(configs))
        return fit_students(data, splits, configs, **options)

    monkeypatch.setattr(students, "fit_students", counted)
    store = ResultsStore(tmp_path / "grouped.sqlite")
    configs = grid()
    first = run_configuration(configs[0], folders, device="cpu", store=store)  # stored before
    observers = [_Calls() for _ in configs]
    hooks = [RunHooks(observer=observer) for observer in observers]
    heard: list[int] = []
    outcomes = students.run_students(
        configs,
        folders,
        device="cpu",
        store=store,
        hooks=hooks,
        recorded=lambda index, _: heard.append(index),
    )
    assert passes == [3] and heard == [0, 1, 2, 3]  # the stored run did not train again
    assert outcomes[0].skipped and outcomes[0].key == first.key
    assert observers[0].calls == ["started tau=0.5 lam=0.3", "stored skipped=True"]
    epochs = ["teacher 1", "teacher 2", "student 1", "student 2"]
    for config, observer in zip(configs[1:], observers[1:], strict=True):
        start = f"started tau={config.tau} lam={config.lam}"
        assert observer.calls == [start, *epochs, "stored skipped=False"]
    assert len(store.teachers()) == 1
    meta = store.runs().set_index("run_key")["meta"]
    baseline = outcomes[1].baseline_key
    assert baseline is not None and store.has(baseline)
    assert all(store.teachers()["teacher_key"][0] in meta[o.key] for o in outcomes[1:])

    assert {outcome.key for outcome in outcomes} <= set(grid_alone)  # the keys of runs alone
    for outcome in outcomes[1:]:
        for grouped, own in zip(
            stored_numbers(store, outcome.key), grid_alone[outcome.key], strict=True
        ):
            np.testing.assert_allclose(grouped, own, atol=2e-5)


class _Clock:
    """A stand-in for ``time.perf_counter`` that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now

    def after(self, work, *seconds: float):  # type: ignore[no-untyped-def]
        """``work`` taking ``seconds[i]`` clock seconds at its ``i``-th call."""
        taken = iter(seconds)

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            done = work(*args, **kwargs)
            self.now += next(taken)
            return done

        return timed


def test_a_grouped_runs_seconds_are_its_share_of_the_pass_plus_its_own(
    folders: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass (60 clock seconds) is split between its two runs; each adds its own recording
    (the first trains their image-only baseline, 5 s; the second reads it), so the runs'
    seconds add up to the group's wall time instead of counting the pass twice."""
    clock = _Clock()
    for module in (students, execute):
        monkeypatch.setattr(module, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    monkeypatch.setattr(students, "fit_students", clock.after(students.fit_students, 60.0))
    monkeypatch.setattr(execute, "fit", clock.after(execute.fit, 5.0))  # the baseline's fit
    store = ResultsStore(tmp_path / "results.sqlite")
    configs = [config for config in grid() if config.lam == 0.3]
    outcomes = students.run_students(configs, folders, device="cpu", store=store)
    seconds = [outcome.seconds for outcome in outcomes]
    assert seconds == [60.0 / 2 + 5.0, 60.0 / 2]
    assert sum(seconds) == clock.now - 1000.0  # the group's wall time, each second once
    meta = store.runs().set_index("run_key")["meta"].map(json.loads)
    assert [meta[outcome.key]["seconds"] for outcome in outcomes] == seconds


def test_only_students_of_one_teacher_group() -> None:
    configs = grid()
    with pytest.raises(SweepError, match="differ only in τ and λ"):
        students.run_students([configs[0], configs[0].model_copy(update={"epochs": 3})], Settings())
    with pytest.raises(SweepError, match="differ only in τ and λ"):
        students.run_students(grid("image")[:2], Settings())
