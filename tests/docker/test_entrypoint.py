"""docker/entrypoint.sh: valid POSIX sh that becomes radsweep itself, so SIGTERM reaches it."""

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from radsweep.settings import Settings
from tests.sweeps.wandb_server import agent_environment
from tests.tracking.wandb_file import offline_runs

from .files import DOCKER

SCRIPT = DOCKER / "entrypoint.sh"

# Stands in for the radsweep console script: reports its pid and arguments, then waits (at most
# 10 s, so a failing test leaves no process behind) for SIGTERM and exits 128 + 15 on it, as a
# preempted agent does.
FAKE_RADSWEEP = """#!/bin/sh
trap 'echo terminated; exit 143' TERM
echo "pid=$$"
for argument in "$@"; do echo "arg=$argument"; done
echo ready
i=0
while [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
exit 1
"""


@pytest.mark.parametrize("shell", ["sh", "dash", "bash"])
def test_entrypoint_is_valid_posix_sh(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    command = (
        [shell, "--posix", "-n", str(SCRIPT)] if shell == "bash" else [shell, "-n", str(SCRIPT)]
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert SCRIPT.read_text().startswith("#!/bin/sh\n")
    assert os.access(SCRIPT, os.X_OK), "the image installs it with mode 0755, git should keep +x"


def test_entrypoint_becomes_radsweep_and_passes_sigterm_and_arguments(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "radsweep"
    fake.parent.mkdir()
    fake.write_text(FAKE_RADSWEEP)
    fake.chmod(0o755)
    environment = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    arguments = ["report", "--out", "/results/my report"]
    with subprocess.Popen(
        ["sh", str(SCRIPT), *arguments], stdout=subprocess.PIPE, text=True, env=environment
    ) as process:
        assert process.stdout is not None
        lines = []
        while (line := process.stdout.readline().strip()) != "ready":
            assert line, "the entrypoint ended before radsweep started"
            lines.append(line)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=15)
    assert lines[0] == f"pid={process.pid}", "radsweep must replace the shell (exec)"
    assert lines[1:] == [f"arg={argument}" for argument in arguments]
    assert rest.strip() == "terminated" and process.returncode == 143


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tini") is None, reason="tini is not installed")
def test_under_tini_a_stop_preempts_the_training_run(
    tiny_features: Settings, tmp_path: Path
) -> None:
    """The image's entrypoint chain (tini, entrypoint.sh, radsweep) with a real run-config job:
    SIGTERM to tini, as ``docker stop`` sends it, reaches radsweep, which marks its run
    preempting and exits with 143."""
    settings = tiny_features.model_copy(update={"home": tmp_path / "home"})
    parameters = {
        "task": "synth-prognostic",
        "backbone": "c2l",
        "head": "mean-lp",
        "fraction": 1.0,
        "seeds": [0, 1],
        "epochs": 30,
        "tiny": True,
    }
    command = ["tini", "-s", "--", "sh", str(SCRIPT), "sweep", "run-config", json.dumps(parameters)]
    environment = agent_environment(settings, tmp_path)
    with subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        try:
            while "radsweep: training model" not in (line := process.stderr.readline()):
                assert line, "radsweep ended before training"
            process.send_signal(signal.SIGTERM)
            _, errors = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 143, errors
    [run] = offline_runs(settings.wandb)
    assert run.preempting and run.exit_code == 143
