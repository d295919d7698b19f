"""What the ``data build`` commands share: the output and seed options, required source
folders, progress bars that start with the first long step, and the summary of a built task."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from radsweep.cli.context import console, progress_bar, settings
from radsweep.errors import RadsweepError

if TYPE_CHECKING:
    from radsweep.tasks.builders.common import Advance, Progress
    from radsweep.tasks.manifest import Manifest

Out = Annotated[Path | None, typer.Option(help="Task folder to write (default: DATA/TASK).")]
Seed = Annotated[int, typer.Option(help="Seed of every random draw (same seed, same manifest).")]


def required(value: Path | None, flag: str, layout: str) -> Path:
    if value is None:
        raise RadsweepError(f"missing option {flag}", hint=f"pass {layout}")
    if not value.exists():
        raise RadsweepError(f"{flag} {value} does not exist", hint=f"pass {layout}")
    return value


@contextmanager
def progress() -> Iterator["Progress"]:
    """Progress bars for the long steps; drawn only once a step starts, so early errors stay
    one line."""
    bar = progress_bar("items")
    started = False

    def start(description: str, total: int) -> "Advance":
        nonlocal started
        if not started:
            bar.start()
            started = True
        job = bar.add_task(description, total=total)
        return lambda done: bar.advance(job, done)

    try:
        yield start
    finally:
        if started:
            bar.stop()


def show_built(manifest: "Manifest") -> None:
    frame, task = manifest.frame, manifest.task
    counts = frame["label"].value_counts()
    console.print(
        f"[green]built[/] {task.name} in {manifest.directory}: {len(frame)} samples, "
        f"{frame['patient_id'].nunique()} patients; "
        + ", ".join(f"{name} {counts.get(i, 0)}" for i, name in enumerate(task.classes))
    )
    dropped = manifest.info.builder.get("counts", {})
    if dropped:
        console.print("rows left out: " + ", ".join(f"{k} {v}" for k, v in dropped.items()))


def out_folder(ctx: typer.Context, out: Path | None, task: str) -> Path:
    return out or settings(ctx).data / task
