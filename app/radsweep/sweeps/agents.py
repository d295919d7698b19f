"""One configuration as one W&B run, on every path: local sweeps, ``radsweep sweep agent``
(W&B's pyagent calls ``agent_function`` on a worker thread) and a stock ``wandb agent`` (it
launches the spec's command, ``radsweep sweep run-config``, which calls ``run_sweep_job``).

Each is the one pipeline (``runs.execute.run_configuration``) with the W&B observer
(``tracking.observer``) watching it. SIGTERM or SIGINT from the machine is preemption: the open
run is marked preempting (W&B queues its configuration again), nothing half-done is stored, and
the process exits 128 + the signal (143 for SIGTERM). A server ``stop`` (hyperband, Stop in the
app) ends the run as stopped on both agents: exit 0, never queued again, nothing stored.
"""

import functools
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

import yaml

from radsweep.errors import SweepError
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import RunHooks, run_configuration
from radsweep.runs.interrupts import Preemption
from radsweep.runs.observer import NO_OBSERVER, Observers
from radsweep.runs.outcome import RunOutcome
from radsweep.runs.students import Recorded, run_students
from radsweep.settings import Settings
from radsweep.sweeps.spec import UPLOAD_HEADS, point_fields
from radsweep.tracking.observer import WandbObserver
from radsweep.tracking.server import server_stopped
from radsweep.watchdog import attempt

DEFAULT_PROJECT = "radsweep"
STOP_QUERY_SECONDS = 5.0
"""How long a run that got SIGTERM asks the server whether it was stopped (else: preempted)."""


def run_tracked(
    config: RunConfig,
    settings: Settings,
    *,
    mode: str | None = "offline",
    project: str | None = DEFAULT_PROJECT,
    entity: str | None = None,
    group: str | None = None,
    sweep_id: str | None = None,
    device: str | None = None,
    hooks: RunHooks | None = None,
    run_id: str | None = None,
    stop_query: Callable[[str], bool] | None = None,
) -> RunOutcome:
    """Train ``config`` unless the store holds it, as a W&B run (``group``: the spec's name).

    ``hooks`` may bring their own observer (W&B's joins it) and the preemption to honour;
    ``stop_query`` asks the sweep's server whether it stopped a run (by id).
    """
    hooks = hooks or RunHooks()
    with hooks.timed("store"):
        store = ResultsStore(default_store_path(settings))
    tracker = WandbObserver(
        settings,
        store,
        mode=mode,
        project=project,
        entity=entity,
        group=group,
        sweep_id=sweep_id,
        run_id=run_id,
        server_stopped=stop_query,
    )
    observer = tracker if hooks.observer is NO_OBSERVER else Observers([hooks.observer, tracker])
    watched = replace(hooks, observer=observer)
    with _marked_on_signal(tracker, hooks.preemption):
        return run_configuration(config, settings, device=device, store=store, hooks=watched)


def run_tracked_students(
    configs: Sequence[RunConfig],
    settings: Settings,
    *,
    mode: str | None = "offline",
    project: str | None = DEFAULT_PROJECT,
    group: str | None = None,
    device: str | None = None,
    run_ids: Sequence[str | None] | None = None,
    recorded: Recorded | None = None,
) -> list[RunOutcome]:
    """``run_tracked`` of each of ``configs``, one student group trained in one pass
    (``runs.students``): each its own W&B run (``run_ids``), opened and closed one after another
    once the pass is done. Local sweeps only: a W&B agent hands out one config at a time."""
    store = ResultsStore(default_store_path(settings))
    ids = run_ids if run_ids is not None else [None] * len(configs)
    hooks = [
        RunHooks(
            observer=WandbObserver(
                settings, store, mode=mode, project=project, group=group, run_id=run_id
            )
        )
        for run_id in ids
    ]
    return run_students(
        configs, settings, device=device, store=store, hooks=hooks, recorded=recorded
    )


def _marked_on_signal(
    tracker: WandbObserver, preemption: Preemption | None
) -> AbstractContextManager[None]:
    """Off the main thread (W&B's pyagent), the run is marked preempting in the signal handler:
    the main thread's owner may end the run before this thread sees the signal. On the main
    thread the pipeline sees it at once, and asks the server first whether it was a stop."""
    if preemption is None or threading.current_thread() is threading.main_thread():
        return nullcontext()
    return preemption.announced_to(tracker.mark_preempting)


def _announce(stage: str, epoch: int, epochs: int) -> None:
    """One line per trained stage in the agent's log (agents have no progress bar)."""
    if epoch == 1:
        print(f"radsweep: training {stage}: {epochs} epochs", file=sys.stderr, flush=True)


def sweep_parameters(values: dict[str, Any]) -> RunConfig:
    """The RunConfig of a sweep run's parameters (W&B's own keys start with an underscore;
    ``upload_heads`` is the spec's, read by ``uploading``)."""
    return RunConfig.model_validate(
        point_fields(
            {
                name: value
                for name, value in values.items()
                if not name.startswith("_") and name != UPLOAD_HEADS
            }
        )
    )


def uploading(settings: Settings, values: dict[str, Any]) -> Settings:
    """``settings`` with head upload on when the run's parameters carry the spec's
    ``upload_heads: true`` (``radsweep sweep register`` sends it as a constant parameter)."""
    if values.get(UPLOAD_HEADS) is True and not settings.upload_heads:
        return settings.model_copy(update={"upload_heads": True})
    return settings


def _agent_parameters() -> dict[str, Any]:
    """The parameters ``wandb.agent`` wrote for this run (``{name: {value: v}}``, and W&B's
    ``wandb_version``)."""
    path = os.environ.get("WANDB_SWEEP_PARAM_PATH")
    if not path:
        raise SweepError("no sweep parameters: this function runs under wandb.agent only")
    with open(path, encoding="utf-8") as file:
        values = yaml.safe_load(file) or {}
    return {name: value["value"] for name, value in values.items() if isinstance(value, dict)}


def _sweep_run(
    config: RunConfig,
    settings: Settings,
    spec: str | None,
    device: str | None,
    preemption: Preemption,
    sweep_id: str | None,
    run_id: str | None,
) -> RunOutcome:
    """One run a W&B sweep handed out, the same whichever agent launched it."""
    project = os.environ.get("WANDB_PROJECT") or DEFAULT_PROJECT  # W&B exports the agent's
    entity = os.environ.get("WANDB_ENTITY")
    stop_query = None
    if sweep_id is not None:
        stop_query = functools.partial(_server_stopped, sweep_id, entity, project)
    return run_tracked(
        config,
        settings,
        mode=None,  # WANDB_MODE, else online
        project=project,
        group=spec,
        sweep_id=sweep_id,
        device=device,
        hooks=RunHooks(training=_announce, preemption=preemption),
        run_id=run_id,
        stop_query=stop_query,
    )


def _server_stopped(sweep_id: str, entity: str | None, project: str, run_id: str) -> bool:
    """Whether the server stopped the run, or False when it does not answer in time (a
    preempted machine has seconds left: the run is then marked preempting, the safe side)."""
    done = attempt(
        lambda: server_stopped(sweep_id, run_id, entity, project),
        STOP_QUERY_SECONDS,
        "wandb-stop-query",
    )
    return bool(done.finished and done.error is None and done.value)


def agent_function(
    settings: Settings, spec: str | None, preemption: Preemption, device: str | None = None
) -> Callable[[], None]:
    """The function ``wandb.agent`` calls (on its worker thread) for each run it hands out.

    The run's sweep and run ids are read when W&B hands the run out: W&B's agent removes them
    from the environment when it shuts down on a signal, while this run still has to be marked.
    """

    def train_one() -> None:
        sweep_id, run_id = os.environ.get("WANDB_SWEEP_ID"), os.environ.get("WANDB_RUN_ID")
        values = _agent_parameters()
        config = sweep_parameters(values)
        _sweep_run(config, uploading(settings, values), spec, device, preemption, sweep_id, run_id)

    return train_one


def run_sweep_job(
    args_json: str, settings: Settings, spec: str | None, device: str | None = None
) -> RunOutcome:
    """What a stock ``wandb agent`` launches from a spec's command: one run, signals handled."""
    try:
        values = json.loads(args_json)
    except json.JSONDecodeError as error:
        raise SweepError(f"run-config takes the run's parameters as JSON: {error}") from error
    if not isinstance(values, dict):
        raise SweepError("run-config takes a JSON object of RunConfig fields")
    preemption = Preemption()
    sweep_id, run_id = os.environ.get("WANDB_SWEEP_ID"), os.environ.get("WANDB_RUN_ID")
    with preemption.on_main_thread():
        config, settings = sweep_parameters(values), uploading(settings, values)
        return _sweep_run(config, settings, spec, device, preemption, sweep_id, run_id)
