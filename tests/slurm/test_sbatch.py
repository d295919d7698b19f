"""slurm/agents.sbatch: an array of agents whose pre-kill signal reaches radsweep itself.

No scheduler runs in CI: the directives are read as sbatch reads them (``#SBATCH`` lines before
the first command), and the script runs under bash with a stand-in for radsweep.
"""

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.docker.test_entrypoint import FAKE_RADSWEEP

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "slurm" / "agents.sbatch"
SWEEP = "team/radsweep/abc123"


def directives() -> dict[str, str]:
    """``--name=value`` of every ``#SBATCH`` line sbatch reads: those before the first command."""
    found: dict[str, str] = {}
    for line in SCRIPT.read_text().splitlines()[1:]:
        if line.strip() and not line.startswith("#"):
            break
        if match := re.match(r"#SBATCH\s+--([\w-]+)(?:=(\S+))?\s*$", line):
            found[match.group(1)] = match.group(2) or ""
    return found


def test_the_recipe_is_an_array_of_one_gpu_agents_that_requeue() -> None:
    found = directives()
    assert re.fullmatch(r"\d+-\d+(%\d+)?", found["array"])
    assert found["gres"] == "gpu:1"
    assert "requeue" in found
    assert found["open-mode"] == "append"  # a requeued job adds to its log, keeps the first part


def test_the_pre_kill_signal_is_sigterm_to_the_batch_shell_in_time_to_mark_the_run() -> None:
    match = re.fullmatch(r"B:(TERM|SIGTERM)@(\d+)", directives()["signal"])
    assert match, directives()["signal"]
    assert int(match.group(2)) >= 60  # the run is marked and W&B flushed well before SIGKILL


def test_the_script_is_valid_bash_and_executable() -> None:
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert SCRIPT.read_text().startswith("#!/bin/bash\n") and os.access(SCRIPT, os.X_OK)


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    fake = tmp_path / "bin" / "radsweep"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE_RADSWEEP)
    fake.chmod(0o755)
    path = f"{fake.parent}{os.pathsep}{os.environ['PATH']}"
    environment = {k: v for k, v in os.environ.items() if k != "SWEEP_ID"}
    return {**environment, "PATH": path, "HOME": str(tmp_path), **extra}


@contextmanager
def _signals_as_slurm_leaves_them() -> Iterator[None]:
    """A batch shell starts with SIGINT at its default. A test run started in the background
    of a shell without job control inherits SIGINT ignored, which its children would inherit
    too (an ignored signal survives exec, and a shell cannot un-ignore it)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_batch_shell_becomes_the_agent_so_the_signal_reaches_it(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """What ``--signal=B:...`` signals is the batch shell's pid: it must be radsweep's."""
    environment = _environment(tmp_path, SWEEP_ID=SWEEP)
    with (
        _signals_as_slurm_leaves_them(),
        subprocess.Popen(
            ["bash", str(SCRIPT)], stdout=subprocess.PIPE, text=True, env=environment
        ) as process,
    ):
        assert process.stdout is not None
        lines = []
        while (line := process.stdout.readline().strip()) != "ready":
            assert line, "the script ended before radsweep started"
            lines.append(line)
        assert f"pid={process.pid}" in lines  # exec: no shell left between scheduler and agent
        assert [x for x in lines if x.startswith("arg=")] == [
            "arg=sweep",
            "arg=agent",
            f"arg={SWEEP}",
        ]
        process.send_signal(signum)
        process.wait(timeout=30)
    assert process.returncode in (143, 128 + signum, -signum)  # the stand-in ends on the signal


def test_without_a_sweep_id_it_says_so_and_starts_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env=_environment(tmp_path)
    )
    assert result.returncode != 0 and "SWEEP_ID" in result.stderr
    assert "ready" not in result.stdout


def test_the_sweeps_guide_shows_the_recipe() -> None:
    guide = (ROOT / "docs" / "sweeps.md").read_text()
    assert "slurm/agents.sbatch" in guide and "--signal=B:TERM@120" in guide
