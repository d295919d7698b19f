"""``radsweep screen``: will the report help on this task? A verdict with evidence, in minutes."""

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.progress import TaskID
from rich.table import Table

from radsweep.cli.context import console, progress_bar, settings
from radsweep.cli.train import DEFAULT_HEAD, HeadChoice, parse_seeds
from radsweep.errors import RadsweepError

if TYPE_CHECKING:  # imported when the command runs: they pull in pandas, torch, the encoders
    import pandas as pd

    from radsweep.screen import ScreenAnswer


def parse_fractions(text: str | None) -> tuple[float, ...] | None:
    """``0.05,0.1`` to a tuple of fractions."""
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise RadsweepError(
            f"--fractions {text!r} is not a list of numbers", hint="write e.g. 0.05,0.1"
        ) from None


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def _number(value: float | None, signed: bool = False) -> str:
    if _missing(value):
        return ""
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _count(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else str(int(value))


def _table(table: "pd.DataFrame", seeds: int) -> Table:
    shown = Table(
        title=f"What the screen measured: validation AUC, {seeds} seeds; gains (a - b) paired "
        "by seed",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for column in ("AUC", "fraction", "train", "mean", "95 % interval"):
        shown.add_column(column, justify="left" if column == "AUC" else "right", no_wrap=True)
    row: Any  # itertuples names its fields at run time
    for row in table.itertuples(index=False):
        gain = " - " in row.quantity
        interval = ""
        if not math.isnan(row.ci95_low):
            interval = f"({_number(row.ci95_low, gain)}, {_number(row.ci95_high, gain)})"
        shown.add_row(
            row.quantity,
            f"{row.fraction:g}",
            _count(row.train_samples),
            _number(row.mean, gain),
            interval,
        )
    return shown


def _print(answer: "ScreenAnswer") -> None:
    screen, judgement = answer.screen, answer.screen.judgement
    plain: dict[str, Any] = {"markup": False, "highlight": False, "soft_wrap": True}
    console.print(_table(answer.table, len(screen.options.seeds)))
    console.print(f"verdict: {judgement.verdict.value}: {judgement.advice}", **plain)
    for rule in judgement.evidence:
        mark = "crossed" if rule.crossed else "not crossed"
        console.print(f"  {rule.rule}: {rule.value} (threshold {rule.threshold}: {mark})", **plain)
    for note in judgement.notes:
        console.print(f"  {note}", **plain)
    console.print("limits:", **plain)
    for line in screen.limits:
        console.print(f"  {line}", **plain)
    reused = sum(run.reused for run in screen.runs)
    console.print(
        f"screened in {screen.seconds:.0f} s ({screen.cpu_seconds:.0f} s CPU); "
        f"{len(screen.runs)} runs, {reused} of them already in the results store",
        **plain,
    )
    if answer.spec is not None:
        console.print(
            f"next step: {answer.spec} ({answer.spec_runs} configurations): "
            f"radsweep sweep local {answer.spec} --workers 2",
            **plain,
        )
    for note in answer.notes:
        console.print(f"note: {note}", **plain)
    if answer.wandb_dir is not None:
        console.print(f"W&B run: {answer.wandb_dir}", **plain)


def screen(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="Task name or folder (see radsweep data tasks).")],
    backbone: Annotated[
        str, typer.Option(help="Image encoder (default: the light pixel patches).")
    ] = "pixel-patches",
    text_encoder: Annotated[
        str, typer.Option(help="Text encoder (default: the light MiniLM sentence embeddings).")
    ] = "minilm-sentences",
    seeds: Annotated[str, typer.Option(help="Seeds, e.g. 0-4 or 0,2,7.")] = "0-4",
    fractions: Annotated[
        str | None,
        typer.Option(help="Fractions of the control, e.g. 0.05,0.1 (default: the two smallest)."),
    ] = None,
    head: Annotated[HeadChoice, typer.Option(help="Image head of the control.")] = DEFAULT_HEAD,
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: the task's table).")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (default: the head's).")] = (
        None
    ),
    tau: Annotated[
        float | None, typer.Option(help="Teacher temperature τ (default: the task's).")
    ] = None,
    lam: Annotated[float | None, typer.Option(help="Imitation weight λ in [0, 1] (0.5).")] = None,
    max_length: Annotated[
        int | None, typer.Option(min=2, help="Report tokens kept (default: the encoder's).")
    ] = None,
    budget_minutes: Annotated[
        float | None,
        typer.Option(help="Start no training step after this many minutes (default: no limit)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the sweep spec that would confirm the verdict.")
    ] = None,
    wandb_mode: Annotated[
        str | None,
        typer.Option("--wandb", help="Log the screen as one W&B run: online or offline."),
    ] = None,
    project: Annotated[str, typer.Option(help="W&B project of the screen's run.")] = "radsweep",
    entity: Annotated[str | None, typer.Option(help="W&B entity (default: yours).")] = None,
    tiny: Annotated[
        bool, typer.Option("--tiny", help="Tiny random encoders (tests, demos).")
    ] = False,
    device: Annotated[str | None, typer.Option(help="cpu, cuda or cuda:N (default: auto).")] = None,
) -> None:
    """Will reports help on this task? Probe, headroom, paired control, verdict, next sweep.

    Linear probes of the report alone, the image alone and both, on the full training pool; then,
    at two small fractions, image-only, distillation (with its report-aware teacher) and
    self-distillation, every seed, paired by seed. The verdict (the report determines the label,
    adds information the image lacks, or carries little) is printed with the thresholds it
    crossed. Runs are recorded in the results store, so a second screen trains nothing.
    """
    from radsweep.runs.execute import RunHooks
    from radsweep.screen import ScreenOptions, Tracking, screen_task

    if wandb_mode not in (None, "online", "offline"):
        raise RadsweepError(f"--wandb {wandb_mode!r} is not a W&B mode", hint="online or offline")
    options = ScreenOptions(
        task=task,
        backbone=backbone,
        text_encoder=text_encoder,
        seeds=parse_seeds(seeds),
        fractions=parse_fractions(fractions),
        head=head,
        epochs=epochs,
        lr=lr,
        tau=tau,
        lam=lam,
        max_length=max_length,
        budget_minutes=budget_minutes,
        tiny=tiny,
    )
    tracking = Tracking(wandb_mode, project, entity) if wandb_mode else None
    with progress_bar("items") as bar:
        jobs: dict[str, TaskID] = {}

        def advance(what: str, done: int, total: int) -> None:
            if what not in jobs:
                jobs[what] = bar.add_task(what, total=total)
            bar.update(jobs[what], completed=done, total=total)

        def epoch(stage: str, done: int, total: int) -> None:
            advance(f"training {stage} (epochs)", done, total)

        hooks = RunHooks(extraction=advance, training=epoch)
        answer = screen_task(
            options, settings(ctx), out=out, tracking=tracking, device=device, hooks=hooks
        )
    _print(answer)
