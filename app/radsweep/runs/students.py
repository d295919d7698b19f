"""Run the students of a τ/λ grid together: one training pass, then each recorded as its own run.

Configurations with one ``RunConfig.student_group_key`` (distillations differing only in τ and
λ) share their features, seeds and teacher, so ``training.students.fit_students`` trains them in
one vectorized pass: the teacher once (or read from the store, where another run kept it), the
features loaded once, every step serving the whole grid. Each run is then recorded exactly as
``runs.execute.run_configuration`` records it alone, through the same functions (baseline,
heads, store row), to the same numbers; its observer hears the same calls in the same order:
``run_started``, its epochs, ``stored``. The epochs are replayed after the pass, one run after
another, so a tracker that holds one run open at a time (W&B) sees each run whole.

A pass that fails for a user-visible reason (a diverging student, say) or runs out of GPU
memory (students x seeds members need that many seeds' activations) records nothing; each
configuration then runs alone, so the others are recorded and only a failing one fails, as if
they had never been grouped.

**A grouped run's seconds.** The shared work (features, the teacher, the one pass) has no owner,
so it is split evenly among the runs the pass trained, and each adds its own recording (its
baseline, read as a run alone reads it: up to writing its heads and store row): a run's
``seconds`` is its share plus its own time, and the group's runs add up to the group's wall time,
as runs that ran alone add up to theirs. A share
rather than the whole shared time, so that summing ``seconds`` over a sweep, or comparing a
grouped run with one run alone, counts each second once; the time since the group started would
count the pass once per run, and more for each run recorded later. A run the store held already
adds only the time to find it there (when every run was held, they split the shared time); the
time of a pass that failed before the runs went alone is in no run's seconds.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from radsweep.devices import resolve_device
from radsweep.errors import RadsweepError, SweepError
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import (
    PreparedRun,
    RunHooks,
    _ended,
    _machine_signal,
    keep_teacher,
    kept_teacher,
    prepare,
    record_run,
    run_configuration,
    stored_outcome,
    training_inputs,
)
from radsweep.runs.outcome import RunOutcome
from radsweep.settings import Settings
from radsweep.training.engine import EpochEvent, Progress
from radsweep.training.results import FitResult
from radsweep.training.students import fit_students
from radsweep.training.task_inputs import TaskRows

Recorded = Callable[[int, RunOutcome], None]
"""(index of the config, its outcome), as soon as that run is recorded."""


@dataclass(frozen=True)
class _Trained:
    result: FitResult
    rows: TaskRows
    events: list[EpochEvent]


def check_group(configs: Sequence[RunConfig]) -> None:
    """Raise unless ``configs`` are students of one teacher (one ``student_group_key``)."""
    keys = {config.student_group_key() for config in configs}
    if len(keys) != 1 or None in keys:
        raise SweepError(
            "configurations trained in one pass must be distillations that differ only in τ and λ",
            hint="run the others one at a time (run_configuration)",
        )


def run_students(
    configs: Sequence[RunConfig],
    settings: Settings,
    *,
    device: str | None = None,
    store: ResultsStore | None = None,
    hooks: Sequence[RunHooks] | None = None,
    recorded: Recorded | None = None,
) -> list[RunOutcome]:
    """``run_configuration`` of each of ``configs`` (one student group), trained in one pass.

    ``hooks``: one per config (its observer, its bars); the first also times and watches the
    shared work (features, training). ``recorded`` hears each outcome as soon as it is final.
    ``settings.seed_chunk`` counts members of the pass (students x seeds) per step slice.
    """
    check_group(configs)
    watched = list(hooks) if hooks is not None else [RunHooks()] * len(configs)
    started = time.perf_counter()
    store = store or ResultsStore(default_store_path(settings))
    try:
        prepared = _prepared(configs, settings, device, watched[0])
        with watched[0].timed("store"):
            todo = _untrained(prepared, store)
        runs, runs_hooks = [prepared[i] for i in todo], [watched[i] for i in todo]
        trained = _train(runs, store, device, runs_hooks, settings.seed_chunk)
    except (RadsweepError, torch.cuda.OutOfMemoryError):
        return _one_at_a_time(configs, settings, device, store, watched, recorded)
    owners = todo or list(range(len(prepared)))  # who pays the shared time
    share = (time.perf_counter() - started) / len(owners)
    outcomes = []
    for index, (run, hook) in enumerate(zip(prepared, watched, strict=True)):
        shared = share if index in owners else 0.0
        trained_run = trained.get(run.key)
        outcome = _record(run, trained_run, store, device, hook, shared, settings.seed_chunk)
        outcomes.append(outcome)
        if recorded is not None:
            recorded(index, outcome)
    return outcomes


def _prepared(
    configs: Sequence[RunConfig], settings: Settings, device: str | None, hooks: RunHooks
) -> list[PreparedRun]:
    """Every config resolved, its features opened (extracted once, by the first)."""
    with hooks.timed("features"):
        return [prepare(config, settings, device, hooks) for config in configs]


def _untrained(prepared: list[PreparedRun], store: ResultsStore) -> list[int]:
    """Indices of the runs to train: not stored yet, and the first of any that resolve to one
    key (a τ left to the task's default and the same τ given)."""
    first: dict[str, int] = {}
    for index, run in enumerate(prepared):
        if run.key not in first and not store.has(run.key):
            first[run.key] = index
    return list(first.values())


def _train(
    runs: list[PreparedRun],
    store: ResultsStore,
    device: str | None,
    hooks: list[RunHooks],
    seed_chunk: int | None,
) -> dict[str, _Trained]:
    """Fit the runs' students in one pass (``seed_chunk`` members per step slice; None: the
    engine's choice); keep their teacher if none was kept before."""
    if not runs:
        return {}
    first, shared = runs[0], hooks[0]
    kept = kept_teacher(first, store, shared)
    events: list[list[EpochEvent]] = [[] for _ in runs]
    with shared.timed("training"):
        data, rows = training_inputs(first)
        task = first.manifest.task
        chunk = {"seed_chunk": seed_chunk}
        results = fit_students(
            data,
            rows.splits,
            [run.config.train_config(task).model_copy(update=chunk) for run in runs],
            device=resolve_device(device),
            progress=[_listener(hook, heard) for hook, heard in zip(hooks, events, strict=True)],
            teacher=kept,
        )
    keep_teacher(first, store, shared, kept, results[0])
    return {
        run.key: _Trained(result, rows, heard)
        for run, result, heard in zip(runs, results, events, strict=True)
    }


def _listener(hooks: RunHooks, heard: list[EpochEvent]) -> Progress:
    """A student's progress during the pass: its bar, its events kept for its observer, and
    the preemption check."""

    def progress(event: EpochEvent) -> None:
        if hooks.training is not None:
            hooks.training(event.stage, event.epoch, event.epochs)
        heard.append(event)
        hooks.check()

    return progress


def _record(
    run: PreparedRun,
    trained: _Trained | None,
    store: ResultsStore,
    device: str | None,
    hooks: RunHooks,
    shared: float,
    seed_chunk: int | None = None,
) -> RunOutcome:
    """One run's record and its observer's calls, as ``run_configuration`` makes them; a run
    the store held before the pass (or a duplicate recorded just now) is reported stored. Its
    seconds: ``shared``, its share of the group's shared work, plus its own from now on; its
    baseline, if trained, takes ``seed_chunk`` seeds per step slice."""
    started = time.perf_counter() - shared
    observer = hooks.observer
    try:
        with hooks.critical(), hooks.timed("tracking"):
            observer.run_started(run.config)
        if trained is None or store.has(run.key):
            outcome = stored_outcome(run, started)
        else:
            with hooks.timed("tracking"):
                for event in trained.events:
                    observer.epoch_finished(event)
            outcome = record_run(
                run,
                trained.result,
                trained.rows,
                store,
                device=device,
                hooks=hooks,
                started=started,
                seed_chunk=seed_chunk,
            )
        with hooks.timed("tracking"):
            observer.stored(outcome)
    except BaseException as error:
        with hooks.timed("tracking"):
            _ended(error, observer, _machine_signal(error, hooks))
        return RunOutcome(
            run.config, run.key, False, time.perf_counter() - started, (), stopped=True
        )
    return outcome


def _one_at_a_time(
    configs: Sequence[RunConfig],
    settings: Settings,
    device: str | None,
    store: ResultsStore,
    hooks: list[RunHooks],
    recorded: Recorded | None,
) -> list[RunOutcome]:
    """Each config run alone: after a failed pass, so only a failing student fails. Its error
    is raised once every other run is recorded."""
    outcomes, failure = [], None
    for index, (config, hook) in enumerate(zip(configs, hooks, strict=True)):
        try:
            outcome = run_configuration(config, settings, device=device, store=store, hooks=hook)
        except RadsweepError as error:
            failure = failure or error
            continue
        outcomes.append(outcome)
        if recorded is not None:
            recorded(index, outcome)
    if failure is not None:
        raise failure
    return outcomes
