"""One configuration as one W&B run, on every path: local sweeps, ``radsweep sweep agent``
(``wandb.agent`` calls ``agent_function`` on a worker thread) and a stock ``wandb agent``
(it launches the spec's command, ``radsweep sweep run-config``).

A configuration the store already holds is not trained again: its stored curves, summary and
table are replayed into its run, tagged ``cached``. SIGTERM (a preempted node, ``docker stop``)
is owned by the main thread: it marks the open run preempting, so the W&B sweep queues its
configuration again, stops training at the next epoch (the store keeps whole runs only) and
exits with 143.
"""

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from types import FrameType
from typing import Any

import yaml

from radsweep.errors import SweepError
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import (
    PreparedRun,
    RunHooks,
    baseline,
    prepare,
    stored_outcome,
    train_and_record,
)
from radsweep.runs.outcome import RunOutcome
from radsweep.settings import Settings
from radsweep.tracking import schema
from radsweep.tracking.session import PREEMPTED_EXIT_CODE, open_run, run_url
from radsweep.tracking.writer import log_heads, log_stored, stored_run

DEFAULT_PROJECT = "radsweep"


class Preemption:
    """A stop request from SIGTERM, seen by whichever thread trains (at its next epoch)."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._run: Any = None
        self._lock = threading.Lock()

    def check(self) -> None:
        if self.requested.is_set():
            raise SystemExit(PREEMPTED_EXIT_CODE)

    def hooks(self, hooks: RunHooks) -> RunHooks:
        """``hooks`` whose progress callbacks stop the run once preemption is requested."""
        training, extraction = hooks.training, hooks.extraction

        def train(stage: str, epoch: int, epochs: int) -> None:
            self.check()
            if training is not None:
                training(stage, epoch, epochs)

        def extract(what: str, done: int, total: int) -> None:
            self.check()
            if extraction is not None:
                extraction(what, done, total)

        return replace(hooks, training=train, extraction=extract)

    @contextmanager
    def watching(self, run: Any) -> Iterator[None]:
        """While the body runs, a SIGTERM marks ``run`` preempting."""
        with self._lock:
            self._run = run
        try:
            yield
        finally:
            with self._lock:
                self._run = None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.requested.set()
        with self._lock:
            if self._run is not None:
                self._run.mark_preempting()
        raise SystemExit(128 + signum)

    @contextmanager
    def on_main_thread(self) -> Iterator[None]:
        """Own SIGTERM while the body runs (only the main thread can install a handler)."""
        if threading.current_thread() is not threading.main_thread():
            raise SweepError("a W&B agent must run on the main thread to handle preemption")
        previous = signal.signal(signal.SIGTERM, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)


def run_tracked(
    config: RunConfig,
    settings: Settings,
    *,
    mode: str | None = "offline",
    project: str | None = "radsweep",
    entity: str | None = None,
    group: str | None = None,
    sweep_id: str | None = None,
    device: str | None = None,
    hooks: RunHooks | None = None,
    preemption: Preemption | None = None,
    run_id: str | None = None,
) -> RunOutcome:
    """Train ``config`` unless the store holds it, as a W&B run (``group``: the spec's name).

    The store records the run before W&B logs it, so a W&B failure loses no result; the store
    then links the run key to the W&B run that first logged it.
    """
    started = time.perf_counter()
    watch = preemption or Preemption()
    hooks = watch.hooks(hooks or RunHooks())
    with hooks.timed("store"):
        store = ResultsStore(default_store_path(settings))
    with hooks.timed("features"):
        prepared = prepare(config, settings, device, hooks)
    with hooks.timed("store"):
        cached = store.has(prepared.key)
    with ExitStack() as finishing:  # opening and finishing the W&B run are timed apart
        with hooks.timed("tracking"):
            run = finishing.enter_context(
                open_run(
                    prepared.config,
                    settings,
                    mode=mode,
                    project=project,
                    entity=entity,
                    group=schema.group(group, sweep_id),
                    run_id=run_id,
                )
            )
            finishing.enter_context(watch.watching(run))
        watch.check()
        if cached:
            outcome = stored_outcome(prepared, started)
        else:
            outcome = train_and_record(prepared, store, device=device, hooks=hooks, started=started)
        with hooks.timed("tracking"):
            _log(run, store, prepared, cached, group, settings)
            if outcome.result is not None:
                log_heads(run, prepared.key, outcome.result, group)
            store.set_wandb(prepared.key, run.id, run_url(run), sweep_id)
            finishing.close()  # run.finish()
    return outcome


def _log(
    run: Any,
    store: ResultsStore,
    prepared: PreparedRun,
    cached: bool,
    spec: str | None,
    settings: Settings,
) -> None:
    baseline_key = baseline(prepared).key if prepared.config.method.distils else None
    stored = stored_run(store, prepared.key, baseline_key)
    log_stored(run, stored, cached=cached, spec=spec, cache_dir=settings.cache)


def _project() -> str:
    """The agent's project (W&B exports it to the run), else radsweep's default."""
    return os.environ.get("WANDB_PROJECT") or DEFAULT_PROJECT


def _announce(stage: str, epoch: int, epochs: int) -> None:
    """One line per trained stage in the agent's log (agents have no progress bar)."""
    if epoch == 1:
        print(f"radsweep: training {stage}: {epochs} epochs", file=sys.stderr, flush=True)


def sweep_parameters(values: dict[str, Any]) -> RunConfig:
    """The RunConfig of a sweep run's parameters (W&B's own keys start with an underscore)."""
    return RunConfig.model_validate(
        {name: value for name, value in values.items() if not name.startswith("_")}
    )


def _agent_parameters() -> RunConfig:
    """The parameters ``wandb.agent`` wrote for this run (``{name: {value: v}}``, and W&B's
    ``wandb_version``)."""
    path = os.environ.get("WANDB_SWEEP_PARAM_PATH")
    if not path:
        raise SweepError("no sweep parameters: this function runs under wandb.agent only")
    with open(path, encoding="utf-8") as file:
        values = yaml.safe_load(file) or {}
    return sweep_parameters(
        {name: value["value"] for name, value in values.items() if isinstance(value, dict)}
    )


def agent_function(
    settings: Settings, spec: str | None, preemption: Preemption, device: str | None = None
) -> Callable[[], None]:
    """The function ``wandb.agent`` calls (on its worker thread) for each run it hands out."""

    def train_one() -> None:
        _sweep_run(_agent_parameters(), settings, spec, device, preemption)

    return train_one


def _sweep_run(
    config: RunConfig,
    settings: Settings,
    spec: str | None,
    device: str | None,
    preemption: Preemption,
) -> RunOutcome:
    """One run a W&B sweep handed out, the same whichever agent launched it."""
    return run_tracked(
        config,
        settings,
        mode=None,  # WANDB_MODE, else online
        project=_project(),
        group=spec,
        sweep_id=os.environ.get("WANDB_SWEEP_ID"),
        device=device,
        hooks=RunHooks(training=_announce),
        preemption=preemption,
    )


def run_sweep_job(
    args_json: str, settings: Settings, spec: str | None, device: str | None = None
) -> RunOutcome:
    """What a stock ``wandb agent`` launches from a spec's command: one run, SIGTERM handled."""
    try:
        values = json.loads(args_json)
    except json.JSONDecodeError as error:
        raise SweepError(f"run-config takes the run's parameters as JSON: {error}") from error
    if not isinstance(values, dict):
        raise SweepError("run-config takes a JSON object of RunConfig fields")
    preemption = Preemption()
    with preemption.on_main_thread():
        return _sweep_run(sweep_parameters(values), settings, spec, device, preemption)
