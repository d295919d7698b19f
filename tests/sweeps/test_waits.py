"""The sweep tests' waits: a process's exit is an event, a zombie has exited."""

import subprocess
import sys

import pytest

from tests.sweeps.waits import wait_for_exit


@pytest.mark.timeout(60)
def test_wait_for_exit_returns_once_every_process_has_exited() -> None:
    sleepers = [subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)]
    sleepers.append(subprocess.Popen([sys.executable, "-c", "pass"]))
    sleepers[0].kill()  # not reaped yet: a zombie until wait() below
    wait_for_exit([sleeper.pid for sleeper in sleepers])
    assert all(sleeper.wait() is not None for sleeper in sleepers)


def test_a_process_already_gone_is_not_waited_for() -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    wait_for_exit([finished.pid])
