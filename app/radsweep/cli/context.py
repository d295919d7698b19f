"""What every command shares: the settings chosen by flags and environment, and the consoles."""

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

from radsweep.settings import Settings

console = Console()
err_console = Console(stderr=True)


def settings(ctx: typer.Context) -> Settings:
    """The settings the top-level callback built (falls back to the environment alone)."""
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, Settings) else Settings()


def resolve_device(name: str | None) -> str:
    """``auto``/None, ``cpu``, ``cuda`` or ``cuda:N``, checked against this machine's devices
    now, so a typo or a missing GPU is one line rather than a crash inside a run."""
    import torch

    from radsweep.errors import RadsweepError

    if name is None or name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as error:
        raise RadsweepError(
            f"unknown device {name!r}", hint="use auto, cpu, cuda or cuda:N"
        ) from error
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index or 0) >= count:
            raise RadsweepError(
                f"device {name!r} is not available here ({count} CUDA device(s) found)",
                hint="use --device cpu, or check the GPU driver (nvidia-smi)",
            )
    elif device.type != "cpu":
        raise RadsweepError(f"device {name!r} is not supported", hint="use auto, cpu or cuda")
    return str(device)


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
