"""The sweep tests' waits: a process's exit is an event, a zombie has exited."""

import signal
import subprocess
import sys

import pytest

from tests.sweeps.waits import wait_for_exit

# Still running when the wait starts (an interpreter takes longer than that to start and sleep).
_BRIEF = [sys.executable, "-c", "import time; time.sleep(0.5)"]


@pytest.mark.timeout(60)
def test_wait_for_exit_returns_once_every_process_has_exited() -> None:
    sleepers = [subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)]
    sleepers.append(subprocess.Popen([sys.executable, "-c", "pass"]))
    sleepers.append(subprocess.Popen(_BRIEF))
    sleepers[0].kill()  # not reaped yet: a zombie until poll() below
    wait_for_exit([sleeper.pid for sleeper in sleepers])
    # poll() does not block: each process had already exited when the wait returned
    assert [sleeper.poll() for sleeper in sleepers] == [-signal.SIGKILL, 0, 0]


@pytest.mark.timeout(60)
def test_a_process_already_gone_is_not_waited_for() -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    running = subprocess.Popen(_BRIEF)
    wait_for_exit([finished.pid, running.pid])
    assert running.poll() == 0
