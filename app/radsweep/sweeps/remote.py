"""Sweeps on a W&B server: register a spec, run an agent that trains what the server hands out.

W&B has no offline sweeps: registration and agents need a server and an API key. Both are checked
before anything else, and every call that talks to the server runs under a timeout (an
unreachable server makes ``wandb.sweep`` retry for about 19 s, or longer), so the user gets one
clear line pointing at ``radsweep sweep local`` instead of a hang.
"""

import os
from collections.abc import Callable
from typing import TypeVar, cast

from radsweep.errors import SweepError
from radsweep.settings import Settings
from radsweep.sweeps.spec import SweepSpec
from radsweep.tracking import server
from radsweep.tracking.host import wandb_server
from radsweep.watchdog import attempt

DEFAULT_PROJECT = "radsweep"
DEFAULT_TIMEOUT_SECONDS = 60.0
Result = TypeVar("Result")


def _local_hint(spec: str) -> str:
    return (
        f"run it with no server: radsweep sweep local {spec} (runs log offline; "
        "wandb sync uploads them later)"
    )


def require_server(what: str, spec: str = "sweeps/SPEC.yaml") -> None:
    """Fail at once when W&B is offline by choice or has no API key (no network involved)."""
    mode = server.offline_mode()
    if mode is not None:
        raise SweepError(
            f"{what} needs a W&B server, and WANDB_MODE={mode} keeps W&B offline",
            hint=_local_hint(spec),
        )
    if not server.has_api_key():
        raise SweepError(
            f"{what} needs a W&B server, and no W&B API key is configured "
            "(set WANDB_API_KEY or run wandb login)",
            hint=_local_hint(spec),
        )


def bounded(
    call: Callable[[], Result], timeout: float, what: str, spec: str = "sweeps/SPEC.yaml"
) -> Result:
    """``call()`` under a watchdog: its result, or a SweepError after ``timeout`` seconds."""
    done = attempt(call, timeout, "wandb-call")
    server = wandb_server()
    if not done.finished:
        raise SweepError(
            f"W&B ({server}) did not answer within {timeout:g} s while {what}",
            hint=_local_hint(spec),
        )
    if done.error is not None:
        detail = " ".join(str(done.error).split()) or type(done.error).__name__
        raise SweepError(
            f"W&B ({server}) failed while {what}: {detail}", hint=_local_hint(spec)
        ) from done.error
    return cast(Result, done.value)  # finished without error: the call's value, None or not


def register(
    spec: SweepSpec,
    *,
    project: str | None = None,
    entity: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> str:
    """Create the sweep on the server; return its full id ``ENTITY/PROJECT/ID``."""
    require_server("registering a sweep", str(spec.path))
    config = {"name": spec.name, **spec.wandb_config()}
    project = project or config.get("project") or DEFAULT_PROJECT
    entity = entity or config.get("entity") or os.environ.get("WANDB_ENTITY")
    where = str(spec.path)
    sweep_id = bounded(
        lambda: server.create_sweep(config, entity, project),
        timeout,
        "registering the sweep",
        where,
    )
    if entity is None:
        entity = bounded(
            lambda: server.default_entity(timeout),
            timeout,
            "looking up your entity",
            where,
        )
    return f"{entity}/{project}/{sweep_id}"


def agent_commands(sweep: str) -> list[str]:
    """The commands that start an agent for ``sweep``: radsweep's, in the GPU container (whose
    entrypoint is radsweep), and a stock W&B agent (it runs the spec's command and passes
    SIGTERM on to it with --forward-signals)."""
    return [
        f"radsweep sweep agent {sweep}",
        f"docker compose -f docker/compose.yaml run --rm agent sweep agent {sweep}",
        f"wandb agent --forward-signals --term-timeout 60 {sweep}",
    ]


def run_agent(
    sweep: str,
    settings: Settings,
    *,
    count: int | None = None,
    project: str | None = None,
    entity: str | None = None,
    device: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> bool:
    """Train the configurations the server hands out (``count`` at most) from cached features;
    return whether the agent ended because the sweep had nothing left (finished or cancelled).

    The sweep is looked up first, under the timeout, so a wrong id or an unreachable server is
    one error line rather than an agent retrying forever.
    """
    require_server("a W&B sweep agent")
    from radsweep.runs.interrupts import Preemption
    from radsweep.sweeps.agents import agent_function
    from radsweep.tracking.folders import check_writable
    from radsweep.tracking.session import check_timeouts

    check_timeouts()
    check_writable(settings)

    path = sweep if "/" in sweep else "/".join(part for part in (entity, project, sweep) if part)
    found = bounded(lambda: server.sweep_config(path, timeout), timeout, f"looking up sweep {path}")
    preemption = Preemption()
    function = agent_function(settings, found.get("name"), preemption, device)
    with preemption.on_main_thread():  # W&B's pyagent trains on a worker thread
        done = server.run_agent(
            sweep, function, count=count, project=project, entity=entity, path=path
        )
    preemption.check()  # a run marked preempted after W&B's agent returned: exit 128 + signal
    return done
