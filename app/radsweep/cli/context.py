"""What every command shares: the settings chosen by flags and environment, and the consoles."""

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


def progress_bar(unit: str) -> Progress:
    """A progress bar with rate and ETA, drawn on stderr so stdout stays parseable."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
