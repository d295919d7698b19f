"""A stand-in for the W&B server's sweep API, at the client's boundary, and agents driven by it.

W&B's agents (``wandb.agent``'s pyagent and the ``wandb agent`` command's ``Agent``) talk to the
server through a few functions: check the API key, fetch the sweep, register the agent,
heartbeat (report run states, receive commands). This module replaces only those (and
``Api.sweep``, which ``radsweep sweep agent`` calls to look the sweep up), then runs the agents'
own code unmodified. It runs as a process, so a test can send it SIGTERM:

    python -m tests.sweeps.wandb_server KIND SPEC PARAMETERS_JSON LOG

KIND: ``radsweep-agent`` (``--count 1``), ``radsweep-agent-until-done`` (no count: it must leave
once the sweep is done) or ``stock-agent``. The server hands out one run with the given
parameters, then answers with no command (the sweep's state is then FINISHED); every
heartbeat's reported run states are appended to LOG as JSON lines. Once a file ``stop`` appears
beside LOG, the server stops the run as W&B's does (hyperband, or Stop in the app): it marks the
run stopped (``stopped.json`` beside LOG: the server's record, which ``_sweep_with_runs`` lists)
and answers the agent's next heartbeat with a ``stop`` command for it.

A stock agent's runs are processes of their own: a spec's command runs them through
``python -m tests.sweeps.wandb_server run-config ARGS...``, which installs the same stand-in
(found through ``STANDIN``, set by the agent's process) before ``radsweep sweep run-config``.
"""

import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import wandb
import wandb.apis.public
import wandb.apis.public.sweeps as sweep_api
import yaml
from wandb.sdk import wandb_login

from radsweep.settings import Settings
from tests.conftest import closed_port

ROOT = Path(__file__).parents[2]
SWEEP_ID = "sweep1"
RUN_ID = "run1"
PATH = f"me/radsweep/{SWEEP_ID}"


def agent_environment(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """An agent's environment: radsweep's folders, an API key and an unreachable server (runs
    log offline after a 2 s init timeout), this checkout importable."""
    netrc = tmp_path / "netrc"
    netrc.write_text("")
    # Not this process's W&B mode, nor its W&B service: an agent on a GPU box starts its own,
    # and a shared one would still hold the run id of the agent's failed online init.
    inherited = ("WANDB_MODE", "WANDB_SERVICE")
    environment = {name: value for name, value in os.environ.items() if name not in inherited}
    environment.update(
        RADSWEEP_HOME=str(settings.home),
        RADSWEEP_DATA_DIR=str(settings.data),
        RADSWEEP_CACHE_DIR=str(settings.cache),
        WANDB_BASE_URL=f"http://127.0.0.1:{closed_port()}",
        WANDB_API_KEY="a" * 40,
        WANDB_INIT_TIMEOUT="2",
        WANDB_DIR=str(settings.wandb),
        NETRC=str(netrc),
        WANDB_SILENT="true",
        PYTHONPATH=os.pathsep.join([str(ROOT / "app"), str(ROOT)]),
    )
    return environment


class SweepServer:
    """The server's side of one sweep: one queued run, and what the agent reported."""

    def __init__(self, spec: Path, parameters: dict[str, Any], log: Path) -> None:
        self.config = yaml.safe_load(spec.read_text())
        self.parameters = parameters
        self.log = log
        self.handed_out = False

    @property
    def stopped(self) -> Path:
        return self.log.parent / "stopped.json"

    def sweep_with_runs(self, _api: Any, sweep_id: str, *_args: Any, **_kw: Any) -> dict:
        assert sweep_id == SWEEP_ID, sweep_id
        stopped = json.loads(self.stopped.read_text()) if self.stopped.exists() else []
        runs = [{"name": run, "stopped": True, "shouldStop": True} for run in stopped]
        return {"name": SWEEP_ID, "config": yaml.safe_dump(self.config), "runs": runs}

    def _stop_command(self, states: dict) -> list[dict]:
        """A stop for the running run once the test asks for one (and only once)."""
        if not states.get(RUN_ID) or self.stopped.exists():
            return []
        if not (self.log.parent / "stop").exists():
            return []
        self.stopped.write_text(json.dumps([RUN_ID]))
        return [{"type": "stop", "run_id": RUN_ID}]

    def register_agent(self, _api: Any, _host: str, **_kw: Any) -> dict:
        return {"id": "agent1"}

    def heartbeat(self, _api: Any, _agent: str, _metrics: dict, states: dict) -> list[dict]:
        with self.log.open("a") as file:
            file.write(json.dumps(states) + "\n")
        if self.handed_out:
            time.sleep(0.2)  # the real server answers at most every few seconds
            return self._stop_command(states)
        self.handed_out = True
        args = {name: {"value": value} for name, value in self.parameters.items()}
        program = self.config.get("program", "")
        return [{"type": "run", "run_id": RUN_ID, "args": args, "program": program}]

    def sweep(self, _api: Any, path: str, *_args: Any, **_kw: Any) -> SimpleNamespace:
        """The sweep as ``Api.sweep`` gives it: a grid of one point is FINISHED once handed out
        (while its run may still train), as W&B's server marks a grid sweep."""
        assert path == PATH, path
        state = "FINISHED" if self.handed_out else "RUNNING"
        return SimpleNamespace(id=SWEEP_ID, config=self.config, state=state)

    def upsert_sweep(self, _api: Any, config: dict, **_kw: Any) -> tuple[dict, list]:
        """``wandb.sweep`` registers a spec: the server keeps it and names the sweep."""
        self.config = config
        return {"name": SWEEP_ID}, []

    def verify_login(self, _auth: Any, **_kw: Any) -> None:
        """The server accepts the API key (``wandb.Api()`` checks it first)."""

    def patches(self) -> list[tuple[Any, str, Any]]:
        """(object, attribute, stand-in) for every server call the clients make."""
        return [
            (wandb_login, "_verify_login", self.verify_login),
            (sweep_api, "_upsert_sweep", self.upsert_sweep),
            (sweep_api, "_sweep_with_runs", self.sweep_with_runs),
            (sweep_api, "_register_agent", self.register_agent),
            (sweep_api, "_agent_heartbeat", self.heartbeat),
            (wandb.apis.public.Api, "sweep", lambda api, path, *_a, **_k: self.sweep(api, path)),
        ]

    def install(self) -> None:
        for owner, name, stand_in in self.patches():
            setattr(owner, name, stand_in)


def main(kind: str, *arguments: str) -> int:
    if kind == "run-config":  # a stock agent's run: the stand-in its agent's process uses
        spec, parameters, log = json.loads(os.environ["STANDIN"])
        SweepServer(Path(spec), json.loads(parameters), Path(log)).install()
        from radsweep.cli.main import cli

        return cli(["sweep", "run-config", *arguments])
    spec, parameters, log = arguments
    os.environ["STANDIN"] = json.dumps(arguments)
    SweepServer(Path(spec), json.loads(parameters), Path(log)).install()
    if kind in ("radsweep-agent", "radsweep-agent-until-done"):
        from radsweep.cli.main import cli

        count = ["--count", "1"] if kind == "radsweep-agent" else []
        return cli(["sweep", "agent", PATH, *count, "--device", "cpu"])
    from wandb.wandb_agent import run_agent

    run_agent(PATH, count=1, forward_signals=True, term_timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
