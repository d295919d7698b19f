"""``radsweep predict``: apply a stored student to a task folder or image files."""

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from radsweep.cli.context import console, progress_bar, settings
from radsweep.cli.options import DeviceOption
from radsweep.errors import RadsweepError


def predict(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="CSV to write (atomically: all of it or nothing).")
    ],
    images: Annotated[
        list[Path] | None,
        typer.Argument(help="Image files to score (or --task).", show_default=False),
    ] = None,
    run: Annotated[
        str | None,
        typer.Option(help="A run of the results store: its key or a unique prefix of it."),
    ] = None,
    artifact: Annotated[
        str | None,
        typer.Option(help="A W&B model artifact ENTITY/PROJECT/NAME:VERSION (or :RUN_KEY)."),
    ] = None,
    head: Annotated[
        Path | None,
        typer.Option(
            help="A folder holding head.json and heads.safetensors (a downloaded artifact)."
        ),
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="A task to score: its name or folder (radsweep data).")
    ] = None,
    device: DeviceOption = None,
) -> None:
    """Score images with a trained model: one probability column per seed, and their mean.

    The heads come from --run, --artifact or --head; the images' features are extracted (or
    reused from the feature cache) with the backbone, weights and pooling the heads were
    trained on, and checked against them. A binary task gets its positive class's probability;
    a multi-class task one column per class and seed.

    Example: radsweep predict --run 3f2a --task synth-diagnostic --out probabilities.csv
    """
    from radsweep.predict import HeadSource
    from radsweep.predict import predict as predict_images

    if sum(given is not None for given in (run, artifact, head)) != 1:
        raise RadsweepError(
            "predict takes the heads from one place", hint="pass one of --run, --artifact, --head"
        )
    source = HeadSource(run=run, artifact=artifact, folder=head)
    with progress_bar("images") as bar:
        tasks: dict[str, TaskID] = {}

        def advance(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        done = predict_images(
            source,
            settings(ctx),
            out,
            task=task,
            images=images or (),
            device=device,
            progress=advance,
        )
    card = done.card
    console.print(
        f"{len(done.table)} images scored by run {card.run_key} ({card.method} · {card.head} · "
        f"{card.backbone}, seeds {', '.join(map(str, card.seeds))}): {done.out}",
        markup=False,
    )
