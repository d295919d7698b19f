"""Opening and finishing W&B runs: one identity on every path, an offline fallback, timeouts.

W&B is a logger here, never the only record: the results store holds a run before W&B finishes
it. So an online run whose server cannot be reached falls back to offline mode (``wandb sync``
uploads it later), and ``run.finish()``, which hangs when the server dies mid-run, runs under a
timeout.
"""

import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import wandb

from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.tracking import schema
from radsweep.tracking.host import wandb_server
from radsweep.watchdog import attempt

OFFLINE_INIT_ATTEMPTS = 4

OFFLINE_MODES = ("offline", "disabled", "dryrun")
PREEMPTED_EXIT_CODE = 128 + 15
"""A run stopped by SIGTERM exits as a terminated process; W&B re-queues a preempting run."""


INIT_TIMEOUT_SECONDS = 90.0
"""How long ``wandb.init`` waits for the server (W&B's default; ``WANDB_INIT_TIMEOUT`` sets it).
An online run whose server has not answered by then is logged offline instead."""
FINISH_TIMEOUT_SECONDS = 120.0
"""How long ``run.finish()`` may upload (W&B's ``finish_timeout``; ``RADSWEEP_WANDB_FINISH_TIMEOUT``
sets it). Without it finish hangs when the server dies mid-run, while the run's results are
stored and its log is on disk already."""
FINISH_GRACE_SECONDS = 5.0
"""A watchdog stops waiting for ``run.finish()`` this long after the finish timeout, should W&B
hang somewhere its own timeout does not reach."""


def _seconds(variable: str, default: float) -> float:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise SweepError(
            f"{variable}={text!r} is not a positive number of seconds",
            hint=f"unset it for the default, {default:g} s",
        )
    return value


def init_timeout() -> float:
    return _seconds("WANDB_INIT_TIMEOUT", INIT_TIMEOUT_SECONDS)


def finish_timeout() -> float:
    return _seconds("RADSWEEP_WANDB_FINISH_TIMEOUT", FINISH_TIMEOUT_SECONDS)


def check_timeouts() -> None:
    """Raise the error of a bad timeout setting once, before any run starts."""
    init_timeout()
    finish_timeout()


def _warn(line: str) -> None:
    """One line on stderr: workers are separate processes, with no console of the CLI's."""
    print(f"radsweep: warning: {line}", file=sys.stderr, flush=True)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(error).__name__


def init_run(
    mode: str | None,
    stop: Callable[[], None] | None = None,
    sweep_id: str | None = None,
    **arguments: Any,
) -> Any:
    """``wandb.init``; an online run W&B cannot start (no answer within the init timeout, no API
    key) is opened offline instead, with one line saying so and how to upload it later.

    ``stop`` is called when the server stops the run (Stop in the app, hyperband): W&B's default
    interrupts the main thread with SIGINT, which radsweep reads as preemption. ``sweep_id``
    ties the run to its sweep even where W&B's agent has already dropped it from the
    environment (it does on shutdown, while the run is still being marked preempted)."""
    settings = wandb.Settings(
        silent=True,
        init_timeout=init_timeout(),
        finish_timeout=finish_timeout(),
        finish_timeout_raises=True,  # a timed-out finish is one warning line of ours
        stop_fn=stop,
    )
    if sweep_id:
        settings.sweep_id = sweep_id
    requested = (mode or os.environ.get("WANDB_MODE") or "online").strip().lower()
    try:
        # the mode is the user's string: W&B checks it, an unknown one is a UsageError below
        return wandb.init(mode=mode, settings=settings, **arguments)  # type: ignore[arg-type]
    except (wandb.errors.CommError, wandb.errors.UsageError) as error:
        if requested in OFFLINE_MODES:
            raise  # already local: nothing to fall back to
        reason = _first_line(error)
    run = _init_offline(settings, arguments)
    server = wandb_server()
    where = run.settings.sync_dir
    _warn(
        f"W&B ({server}) could not start run {run.name or run.id} online ({reason}); "
        f"it logs offline instead, upload it later: wandb sync {where}"
    )
    return run


def _init_offline(settings: wandb.Settings, arguments: dict[str, Any]) -> Any:
    """The offline run in place of a failed online one, under the same id (an agent's run keeps
    the id the sweep gave it). W&B's service can still hold that id for a moment after the
    failed init is torn down, so an id "in use" is retried a few times before it counts."""
    for tries in range(1, OFFLINE_INIT_ATTEMPTS):
        wandb.teardown()
        try:
            return wandb.init(mode="offline", settings=settings, **arguments)
        except Exception as error:
            if not _id_still_in_use(error):
                raise
        time.sleep(0.5 * tries)
    wandb.teardown()
    return wandb.init(mode="offline", settings=settings, **arguments)


def _id_still_in_use(error: Exception) -> bool:
    """Whether ``wandb.init`` refused a run id its service still holds.

    W&B reports this only as its private ``ServerResponseError`` with "in use" in the message
    (no public error type or code), so this one function reads both.
    """
    from wandb.sdk.mailbox.mailbox_handle import ServerResponseError

    return isinstance(error, ServerResponseError) and "in use" in str(error)


def start_run(
    config: RunConfig,
    settings: Settings,
    *,
    mode: str | None,
    project: str | None,
    entity: str | None,
    group: str | None,
    run_id: str | None = None,
    sweep_id: str | None = None,
    stop: Callable[[], None] | None = None,
    task_digest: str | None = None,
) -> Any:
    """A W&B run for one resolved configuration (``task_digest``: of the data it trains on, part
    of its name). Name, group, job type and tags are the same on every path; in a W&B sweep,
    ``wandb.init`` takes the sweep's parameters (and run id) from the agent."""
    settings.wandb.mkdir(parents=True, exist_ok=True)
    for name, value in settings.wandb_environment().items():
        os.environ.setdefault(name, value)  # W&B's folders under radsweep's unless chosen
    return init_run(
        mode,
        stop,
        sweep_id,
        id=run_id,  # the local queue names each attempt's run, so a killed one can be found
        project=project,
        entity=entity,
        group=group,
        job_type=config.method.value,
        name=schema.run_name(config, task_digest),
        tags=schema.tags(config),
        config=config.model_dump(mode="json"),  # a sweep keeps its own values of its keys
        dir=str(settings.wandb),
        reinit="finish_previous",
    )


def run_url(run: Any) -> str | None:
    """The run's page on the server; None for an offline run (it has none until synced)."""
    return None if run.offline else run.url


def finish(run: Any, exit_code: int | None = None) -> None:
    """``run.finish()`` under the finish timeout (W&B's, and a watchdog's should W&B hang past
    it). A hang or a failure costs one warning line, never the results (stored before) nor the
    local log (``wandb sync`` uploads what it holds)."""
    timeout = finish_timeout()
    done = attempt(
        functools.partial(run.finish, exit_code=exit_code),
        timeout + FINISH_GRACE_SECONDS,
        "wandb-finish",
    )
    if done.finished and done.error is None:
        return
    if done.error is None or isinstance(done.error, TimeoutError):
        problem = f"did not finish within {timeout:g} s"
    else:
        problem = f"failed to finish ({_first_line(done.error)})"
    where = run.settings.sync_dir
    _warn(
        f"W&B run {run.name or run.id} {problem}; its results are in the results store, "
        f"its log on disk: wandb sync {where} uploads it"
    )
