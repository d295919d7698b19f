"""The W&B server's sweep calls, for ``radsweep.sweeps``: the only place a sweep talks to W&B.

Login, registering a sweep, looking it up, running ``wandb.agent`` and asking whether the server
stopped a run. ``radsweep.sweeps`` puts timeouts and error lines around these; only this package
imports wandb.
"""

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import wandb

from radsweep.errors import SweepError

OFFLINE_MODES = ("offline", "disabled", "dryrun")


def offline_mode() -> str | None:
    """``WANDB_MODE`` when it keeps W&B off the server, else None."""
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    return mode if mode in OFFLINE_MODES else None


def has_api_key() -> bool:
    """Whether W&B has an API key (checked locally, no network; no login chatter)."""
    wandb.setup(settings=wandb.Settings(silent=True))
    return bool(wandb.login(verify=False, prompt=False))


SERVER_HINT = (
    "set WANDB_API_KEY (and WANDB_BASE_URL for your own W&B server), or run "
    "`wandb login [--host URL]`; unset WANDB_MODE=offline"
)


def require_server(what: str) -> None:
    """One line when W&B has no server to talk to (offline by choice, or no API key)."""
    mode = offline_mode()
    if mode is not None:
        raise SweepError(
            f"{what} needs a W&B server, and WANDB_MODE={mode} keeps W&B offline",
            hint=SERVER_HINT,
        )
    if not has_api_key():
        raise SweepError(
            f"{what} needs a W&B server, and no W&B API key is configured", hint=SERVER_HINT
        )


def create_sweep(config: dict[str, Any], entity: str | None, project: str) -> str:
    """Register ``config`` as a sweep; its id (``wandb.sweep``)."""
    return wandb.sweep(config, entity=entity, project=project)


def default_entity(timeout: float) -> str:
    return str(wandb.Api(timeout=int(timeout)).default_entity)


def sweep_config(path: str, timeout: float) -> dict[str, Any]:
    """The configuration of sweep ``ENTITY/PROJECT/ID`` on the server."""
    found = wandb.Api(timeout=int(timeout)).sweep(path)
    return dict((found.config or {}) if found is not None else {})


DONE_STATES = ("FINISHED", "CANCELED")
"""Sweep states with nothing left to hand out (a grid sweep is FINISHED once every point was)."""
DONE_CHECK_SECONDS = 30.0


def run_agent(
    sweep: str,
    function: Callable[[], None],
    *,
    count: int | None,
    project: str | None,
    entity: str | None,
    path: str,
) -> bool:
    """W&B's own agent (pyagent): ``function`` runs on a worker thread for each run. Returns
    whether it ended because sweep ``path`` had nothing left.

    W&B's agent waits for more work forever once a sweep is done (wandb/wandb#3961), although
    its protocol has an ``exit`` command for that. While the agent is idle (no command, no run
    queued or running) its heartbeat here also asks for the sweep's state, at most every
    ``DONE_CHECK_SECONDS``, and answers ``exit`` for a finished or cancelled sweep: pyagent then
    leaves as the server would have told it to.
    """
    from wandb.apis.public import sweeps as sweep_api

    heartbeat = sweep_api._agent_heartbeat  # noqa: SLF001 (the agent's one server call)
    done = threading.Event()
    checked = [float("-inf")]

    def heartbeat_until_done(
        api: Any, agent_id: str, metrics: dict[Any, Any], run_states: dict[Any, Any]
    ) -> list[dict[str, Any]]:
        commands = heartbeat(api, agent_id, metrics, run_states)
        if commands or run_states or time.monotonic() - checked[0] < DONE_CHECK_SECONDS:
            return commands
        checked[0] = time.monotonic()
        if _sweep_done(api, path):
            done.set()
            return [{"type": "exit"}]
        return commands

    # pyagent imports it at each heartbeat, so the agent's own loop calls this one
    sweep_api._agent_heartbeat = heartbeat_until_done  # noqa: SLF001
    try:
        wandb.agent(sweep, function=function, count=count, project=project, entity=entity)
    finally:
        sweep_api._agent_heartbeat = heartbeat  # noqa: SLF001
    return done.is_set()


def _sweep_done(api: Any, path: str) -> bool:
    """Whether the sweep's state says nothing is left; an unanswered query says no."""
    try:
        return str(getattr(api.sweep(path), "state", "") or "").upper() in DONE_STATES
    except Exception:  # a heartbeat must not fail on W&B's many errors: ask again later
        return False


def stopped_by_agent() -> bool:
    """Whether W&B's pyagent is stopping the run on this thread (a server ``stop`` command).

    pyagent has no public way to tell a run it was stopped: it marks the run's thread
    ``_terminated`` and raises a bare ``Exception`` in it (``wandb.agents.pyagent``). This reads
    that mark, here only, so a stopped run is told apart from a failed one.
    """
    return bool(getattr(threading.current_thread(), "_terminated", False))


def server_stopped(sweep_id: str, run_id: str, entity: str | None, project: str | None) -> bool:
    """Whether the server stopped run ``run_id`` of sweep ``sweep_id`` (hyperband, or Stop in
    the app). A stock ``wandb agent`` passes a stop on as SIGTERM, like a preempted machine; the
    server's own record of the run tells the two apart.

    W&B has no public call for a run's stop flag; ``_sweep_with_runs`` is the query its stock
    agent makes for the sweep (it lists each run's ``stopped`` and ``shouldStop``), used here only.
    """
    from wandb.apis.public.sweeps import _sweep_with_runs

    api = wandb.Api()
    # W&B annotates specs as str; its query takes a list of JSON strings, as its controller sends
    found = _sweep_with_runs(api, sweep_id, [], project=project, entity=entity)  # type: ignore[arg-type]
    return any(
        run.get("name") == run_id and bool(run.get("stopped") or run.get("shouldStop"))
        for run in found.get("runs", [])
    )
