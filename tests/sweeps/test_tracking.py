"""W&B tracking: what an offline run holds, and preemption of agent runs."""

import os
import signal

import pytest

from radsweep.sweeps import tracking


class _SpyRun:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def mark_preempting(self) -> None:
        self.calls.append("preempting")


def test_sigterm_marks_an_agent_run_preempting_and_exits_143() -> None:
    run = _SpyRun()
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exited, tracking._preempting(run):
        os.kill(os.getpid(), signal.SIGTERM)
    assert exited.value.code == 143 and run.calls == ["preempting"]
    assert signal.getsignal(signal.SIGTERM) is before
