"""Long work talks without a terminal: one line per task every ``HEARTBEAT_SECONDS`` on stderr;
under a terminal, bars that fit 80 columns."""

import io
import threading

import pytest
from rich.console import Console

from radsweep.cli import context

HEARTBEAT = context.HEARTBEAT_SECONDS  # read at import: the suite's conftest stops the real one


class FakeHeartbeat(context.Heartbeat):
    """A heartbeat whose time moves only on ``advance``: the test waits on events, not on the
    clock. ``advance`` returns once the progress thread has printed and gone back to sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.asked: list[float] = []
        self.stopped = False
        self.due: float | None = None  # when the sleeping progress thread wakes; None: awake
        self.changed = threading.Condition()

    def reset(self) -> None:
        with self.changed:
            self.stopped = False

    def sleep(self, seconds: float) -> bool:
        with self.changed:
            self.asked.append(seconds)
            self.due = self.now + seconds
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.stopped or self.now >= (self.due or 0.0))
            self.due = None
            return not self.stopped

    def stop(self) -> None:
        with self.changed:
            self.stopped = True
            self.changed.notify_all()

    def advance(self, seconds: float) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.due is not None, timeout=60)
            sleeps, self.now = len(self.asked), self.now + seconds
            if self.now >= (self.due or 0.0):
                self.changed.notify_all()
                assert self.changed.wait_for(lambda: len(self.asked) > sleeps, timeout=60)


def test_piped_progress_prints_a_line_every_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(context, "err_console", Console(file=stream, width=80))
    assert isinstance(context.progress_bar("runs"), context.ProgressLines)  # no terminal here
    monkeypatch.setattr(context, "HEARTBEAT_SECONDS", HEARTBEAT)
    clock = FakeHeartbeat()
    with context.ProgressLines("runs", clock) as bar:
        job = bar.add_task("demo sweep", total=10)
        bar.update(job, completed=3)
        clock.advance(29.0)
        assert stream.getvalue() == ""  # not due yet
        clock.advance(1.0)
        assert stream.getvalue().count("radsweep: demo sweep: 3/10 runs, ") == 1
        bar.update(job, completed=7)
        clock.advance(30.0)
        assert "radsweep: demo sweep: 7/10 runs, " in stream.getvalue()
        bar.update(job, completed=10)
        clock.advance(30.0)
    assert stream.getvalue().count("radsweep: demo sweep") == 2  # a finished task is quiet
    assert set(clock.asked) == {HEARTBEAT} and HEARTBEAT <= 30


def test_terminal_bars_fit_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    terminal = Console(file=stream, width=80, force_terminal=True, color_system=None)
    monkeypatch.setattr(context, "err_console", terminal)
    bar = context.progress_bar("images")
    job = bar.add_task("features: pixel-patches on synth-prognostic (center view)", total=2000)
    bar.update(job, completed=700)
    terminal.print(bar.make_tasks_table(bar.tasks))
    rendered = [line for line in stream.getvalue().splitlines() if line.strip()]
    assert rendered and all(len(line) <= 80 for line in rendered), rendered
    assert "700/2000" in rendered[-1] and "features: pixel" in rendered[-1]
