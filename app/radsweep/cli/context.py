"""What every command shares: the settings chosen by flags and environment, and the consoles."""

import threading
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from radsweep.cli.output import stdout_console

if TYPE_CHECKING:  # pydantic-settings loads when a command runs, not for --help
    from radsweep.settings import Settings

console = stdout_console()  # never cuts piped output at 80 columns
err_console = Console(stderr=True)


def settings(ctx: typer.Context) -> "Settings":
    """The settings the top-level callback built (falls back to the environment alone)."""
    from radsweep.settings import Settings

    root = ctx.find_root()
    return root.obj if isinstance(root.obj, Settings) else Settings()


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``412.3 images/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else f"- {self.unit}/s", style="cyan")


HEARTBEAT_SECONDS = 30.0
"""How often long work prints a progress line when stderr is not a terminal (a piped or logged
run would otherwise be silent until it ends)."""


class Heartbeat:
    """When the next progress line is due: every ``seconds``, until stopped. A test passes a
    stand-in whose time moves only when the test says so."""

    def __init__(self) -> None:
        self._stopped = threading.Event()

    def reset(self) -> None:
        self._stopped.clear()

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False when stopped first."""
        return not self._stopped.wait(seconds)

    def stop(self) -> None:
        self._stopped.set()


class ProgressLines(Progress):
    """Progress without a terminal: every ``HEARTBEAT_SECONDS`` one line per unfinished task on
    stderr (what, done of total, elapsed). Quick work prints none: a failure stays one line."""

    def __init__(self, unit: str, heartbeat: Heartbeat | None = None) -> None:
        super().__init__(console=err_console, disable=True)
        self.unit = unit
        self._heartbeat = heartbeat or Heartbeat()
        self._beat: threading.Thread | None = None

    def start(self) -> None:
        """Start the heartbeat."""
        if self._beat is None:
            self._heartbeat.reset()
            self._beat = threading.Thread(target=self._run, name="progress-lines", daemon=True)
            self._beat.start()

    def stop(self) -> None:
        """Stop the heartbeat."""
        if self._beat is not None:
            self._heartbeat.stop()
            self._beat.join()
            self._beat = None

    def _run(self) -> None:
        while self._heartbeat.sleep(HEARTBEAT_SECONDS):
            for task in self.tasks:
                if not task.finished:
                    self._say(self._line(task))

    def _line(self, task: Task) -> str:
        total = "?" if task.total is None else f"{task.total:.0f}"
        elapsed = int(task.elapsed or 0)
        return (
            f"{task.description}: {task.completed:.0f}/{total} {self.unit}, "
            f"{elapsed // 60}m{elapsed % 60:02d}s"
        )

    def _say(self, line: str) -> None:
        err_console.print(f"radsweep: {line}", markup=False, highlight=False, soft_wrap=True)


def progress_bar(unit: str) -> Progress:
    """Progress on stderr, so stdout stays parseable: under a terminal, bars that fit 80 columns
    (what, bar, done/total, rate, elapsed, remaining); piped or logged, a line every 30 s."""
    if not err_console.is_terminal:
        return ProgressLines(unit)
    return Progress(
        TextColumn(
            "[bold]{task.description}",
            table_column=Column(max_width=28, no_wrap=True, overflow="ellipsis"),
        ),
        BarColumn(bar_width=16),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
