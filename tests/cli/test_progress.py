"""Long work talks without a terminal: one line per task every ``HEARTBEAT_SECONDS`` on stderr;
under a terminal, bars that fit 80 columns."""

import io
import threading
from collections.abc import Callable

import pytest
from rich.console import Console

from radsweep.cli import context


def test_piped_progress_prints_a_line_per_heartbeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(context, "err_console", Console(file=stream, width=80))
    monkeypatch.setattr(context, "HEARTBEAT_SECONDS", 0.01)
    with context.progress_bar("runs") as bar:
        assert isinstance(bar, context.ProgressLines)
        job = bar.add_task("demo sweep", total=10)
        bar.update(job, completed=3)
        assert _eventually(lambda: "3/10 runs" in stream.getvalue())
    text = stream.getvalue()
    assert "radsweep: demo sweep: 3/10 runs, 0m" in text


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


def _eventually(condition: Callable[[], bool]) -> bool:
    """Wait for the heartbeat thread to make ``condition`` true (an event, not a clock)."""
    pause = threading.Event()
    for _ in range(6000):
        if condition():
            return True
        pause.wait(0.01)
    return False
