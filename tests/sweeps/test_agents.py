"""W&B's own agents against a stand-in for the server's sweep API: preemption and replays.

Each agent runs as its own process (``tests.sweeps.wandb_server``), so SIGTERM reaches it as
``docker stop`` would send it. The runs it starts try the (unreachable) server, log offline, and
train on tiny cached features for real.
"""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.agents import run_tracked
from radsweep.tracking import schema
from tests.sweeps.wandb_server import PATH, SWEEP_ID, agent_environment
from tests.tracking.wandb_file import offline_runs

ROOT = Path(__file__).parents[2]
EPOCHS = 30  # SIGTERM comes after the first epoch; the run stops at the end of the next
PARAMETERS = {
    "task": "synth-prognostic",
    "backbone": "c2l",
    "head": "mean-lp",
    "fraction": 1.0,
    "seeds": [0, 1],
    "epochs": EPOCHS,
    "tiny": True,
}
SPEC = {
    "name": "mini",
    "program": "radsweep",
    "method": "grid",
    "metric": {"name": schema.SWEEP_METRIC, "goal": "maximize"},
    "command": [
        *("${env}", "python", "-m", "tests.sweeps.wandb_server", "run-config"),
        *("--spec", "mini", "--device", "cpu", "${args_json}"),
    ],
    "parameters": {name: {"value": value} for name, value in PARAMETERS.items()},
}
TRAINING = "radsweep: training model"


@pytest.fixture
def home(tiny_features: Settings, tmp_path: Path) -> Settings:
    return tiny_features.model_copy(update={"home": tmp_path / "home"})


@contextmanager
def _agent(
    kind: str,
    settings: Settings,
    tmp_path: Path,
    parameters: dict = PARAMETERS,
    stdout: int = subprocess.DEVNULL,
) -> Iterator[subprocess.Popen[str]]:
    """The agent's process; killed with its runs should the test fail before it ends."""
    spec = tmp_path / "mini.yaml"
    spec.write_text(json.dumps(SPEC))
    command = [
        sys.executable,
        "-m",
        "tests.sweeps.wandb_server",
        kind,
        str(spec),
        json.dumps(parameters),
        str(tmp_path / "heartbeats.jsonl"),
    ]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=agent_environment(settings, tmp_path),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as agent:
        try:
            yield agent
        finally:
            if agent.poll() is None:
                os.killpg(agent.pid, signal.SIGKILL)


def _wait_for_training(agent: subprocess.Popen[str]) -> list[str]:
    """Read the agent's stderr until the model trains (the agent says so)."""
    assert agent.stderr is not None
    seen = []
    while TRAINING not in (line := agent.stderr.readline()):
        assert line, "the agent ended before training:\n" + "".join(seen)
        seen.append(line)
    return seen


def _terminate_while_training(
    agent: subprocess.Popen[str], signum: int = signal.SIGTERM
) -> tuple[int, str]:
    """SIGTERM (or ``signum``) once the model trains; its exit code and the rest of stderr."""
    seen = _wait_for_training(agent)
    agent.send_signal(signum)
    _, rest = agent.communicate(timeout=120)
    return agent.returncode, "".join(seen) + rest


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["radsweep-agent", "stock-agent"])
def test_a_stop_from_the_server_ends_the_run_as_stopped_not_preempted(
    kind: str, home: Settings, tmp_path: Path
) -> None:
    """W&B's stop command (hyperband, Stop in the app) is not preemption, on either agent:
    pyagent stops the run's thread, the stock agent sends its process SIGTERM."""
    long = {**PARAMETERS, "epochs": 100_000}  # the stop comes while it trains
    with _agent(kind, home, tmp_path, long) as agent:
        seen = _wait_for_training(agent)
        (tmp_path / "stop").touch()  # the server stops the run at the agent's next heartbeat
        _, rest = agent.communicate(timeout=120)
    errors = "".join(seen) + rest
    assert agent.returncode == 0, errors  # a stopped run is no failure: no flapping shutdown
    [run] = offline_runs(home.wandb)
    assert run.exit_code == 0 and not run.preempting, errors  # W&B does not queue it again
    assert schema.STOPPED_TAG in run.tags and run.summary[schema.STOPPED_TAG] is True
    assert run.group == f"mini/{SWEEP_ID}"
    assert ResultsStore(default_store_path(home)).runs().empty  # nothing half-stored


PYAGENT_RACE = pytest.mark.xfail(
    reason="known race, open: W&B's pyagent trains on a worker thread that sees a signal only at "
    "its next epoch; tiny epochs can all finish (and the run be stored, exit 0) before the main "
    "thread's handler runs on a loaded machine. The handler now marks the run at once and a "
    "signal after the last epoch stores nothing, but the test was not shown stable",
    strict=False,
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind", [pytest.param("radsweep-agent", marks=PYAGENT_RACE), "stock-agent"]
)
def test_sigterm_while_training_marks_the_run_preempting_and_it_runs_again(
    kind: str, home: Settings, tmp_path: Path
) -> None:
    with _agent(kind, home, tmp_path) as agent:
        code, errors = _terminate_while_training(agent)
    [run] = offline_runs(home.wandb)
    assert run.preempting and run.exit_code == 143, errors
    assert run.group == f"mini/{SWEEP_ID}" and run.job_type == "image"
    if kind == "radsweep-agent":
        assert code == 143, errors
    store = ResultsStore(default_store_path(home))
    assert store.runs().empty  # nothing half-written

    with _agent(kind, home, tmp_path) as again:  # W&B queues the preempted configuration again
        _, errors = again.communicate(timeout=600)
    assert again.returncode == 0, errors
    _, second = offline_runs(home.wandb)
    assert second.exit_code == 0 and not second.preempting
    assert schema.SWEEP_METRIC in second.summary
    assert len(store.runs()) == 1
    assert store.runs()["wandb_run_id"].iloc[0] == second.id

    local = run_tracked(RunConfig.model_validate(PARAMETERS), home, group="mini", device="cpu")
    assert local.skipped  # the agent's run stored it: this local run replays it
    replayed = offline_runs(home.wandb)[-1]
    assert _keys(replayed.config) == _keys(second.config)
    assert _keys(replayed.summary) == _keys(second.summary)
    assert replayed.config[schema.RESOLVED] == second.config[schema.RESOLVED]
    assert (replayed.name, replayed.job_type) == (second.name, second.job_type)
    assert replayed.tags == [*second.tags, schema.CACHED_TAG]


def _keys(values: dict) -> set[str]:
    """radsweep's keys (W&B adds its own, with a leading underscore)."""
    return {key for key in values if not key.startswith("_")}


@pytest.mark.slow
@PYAGENT_RACE
def test_sigint_from_a_scheduler_marks_the_agents_run_preempting(
    home: Settings, tmp_path: Path
) -> None:
    """SIGINT to a sweep agent (``scancel --signal=INT``) is preemption, as SIGTERM: the run is
    queued again, not ended as finished. (``radsweep train`` is interactive: Ctrl-C there is a
    clean stop.)"""
    with _agent("radsweep-agent", home, tmp_path) as agent:
        code, errors = _terminate_while_training(agent, signal.SIGINT)
    assert code == 128 + signal.SIGINT, errors
    [run] = offline_runs(home.wandb)
    assert run.preempting and run.exit_code == 143, errors
    assert ResultsStore(default_store_path(home)).runs().empty


@pytest.mark.slow
def test_an_agent_leaves_once_its_sweep_has_nothing_left(home: Settings, tmp_path: Path) -> None:
    """W&B's agent would wait for work forever after a grid is done; radsweep's says so and
    exits 0, but only after the run it holds has finished."""
    short = {**PARAMETERS, "epochs": 2}
    with _agent("radsweep-agent-until-done", home, tmp_path, short, subprocess.PIPE) as agent:
        out, errors = agent.communicate(timeout=600)
    assert agent.returncode == 0, errors
    assert out.strip().splitlines()[-1] == f"sweep {PATH} has nothing left to run: agent done"
    [run] = offline_runs(home.wandb)
    assert run.exit_code == 0 and schema.SWEEP_METRIC in run.summary, errors
    assert len(ResultsStore(default_store_path(home)).runs()) == 1
    states = [json.loads(line) for line in (tmp_path / "heartbeats.jsonl").read_text().splitlines()]
    assert states[-1] == {}  # it left while idle, not with a run in hand
