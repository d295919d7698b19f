"""``radsweep screen``: will the report help on this task? A verdict with evidence, in minutes."""

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.progress import TaskID
from rich.table import Table

from radsweep.cli.context import console, progress_bar, settings
from radsweep.cli.options import DeviceOption, model_options
from radsweep.cli.train import HeadChoice, parse_seeds, print_model
from radsweep.errors import RadsweepError
from radsweep.runs.config import RunConfig

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
        title=f"What the screen measured: held-out test AUC, {seeds} seeds; gains (a - b) paired "
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
    """The table, then the verdict and its evidence grouped per rule with the rule's thresholds."""
    from radsweep.screen.report import screen_report

    report = screen_report(answer)
    plain: dict[str, Any] = {"markup": False, "highlight": False, "soft_wrap": True}
    console.print(_table(answer.table, len(answer.screen.options.seeds)))
    console.print(f"verdict: {report.verdict}: {report.advice}", **plain)
    for note in report.notes:
        console.print(f"  {note}", **plain)
    for line in report.cannot_run:
        if line not in report.notes:
            console.print(f"  {line}", **plain)
    for group in report.evidence:
        console.print(f"{group.group} ({group.thresholds}):", **plain)
        for rule in group.rules:
            mark = "crossed" if rule.crossed else "not crossed"
            console.print(
                f"  {rule.rule}: {rule.value} (threshold {rule.threshold}: {mark})", **plain
            )
    console.print("limits:", **plain)
    for line in report.limits:
        console.print(f"  {line}", **plain)
    reused = sum(step.reused for step in report.steps)
    console.print(
        f"screened in {report.seconds:.0f} s ({report.cpu_seconds:.0f} s CPU); "
        f"{len(report.steps)} runs, {reused} of them already in the results store",
        **plain,
    )
    if report.spec is not None:
        console.print(
            f"next step: {report.spec} ({report.spec_runs} configurations): "
            f"radsweep sweep local {report.spec} --workers 2",
            **plain,
        )
    for note in report.spec_notes:
        console.print(f"note: {note}", **plain)
    if report.wandb_dir is not None:
        console.print(f"W&B run: {report.wandb_dir}", **plain)


SCREEN_FIELDS = (
    "backbone", "text_encoder", "head", "epochs", "lr", "tau", "lam", "max_length", "tiny",
)  # fmt: skip
"""The run settings ``screen`` shares with ``train``; unset ones take the screen's defaults
(``ScreenOptions``: the light encoders), so each default is stated there only."""


@model_options(
    RunConfig,
    SCREEN_FIELDS,
    types={"head": HeadChoice | None},
    defaults={"backbone": None, "text_encoder": None, "head": None},
)
def screen(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="Task name or folder (see radsweep data tasks).")],
    seeds: Annotated[str, typer.Option(help="Seeds, e.g. 0-4 or 0,2,7.")] = "0-4",
    fractions: Annotated[
        str | None,
        typer.Option(
            help="Fractions of the control, e.g. 0.05,0.1 (default: the two smallest with "
            "enough training images)."
        ),
    ] = None,
    min_images: Annotated[
        int | None,
        typer.Option(help="Fewest training images per seed an arm may train on (default 50)."),
    ] = None,
    min_per_class: Annotated[
        int | None,
        typer.Option(help="Fewest images of each class per seed an arm may train on (default 10)."),
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
    device: DeviceOption = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the screen as JSON only (verdict, rules, numbers, thresholds)."
        ),
    ] = False,
    **fields: Any,
) -> None:
    """Will reports help on this task? Probe, headroom, paired control, verdict, next sweep.

    Linear probes of the report alone, the image alone and both, on the full training pool; then,
    at the two smallest fractions with enough training images, image-only, distillation (with its
    report-aware teacher) and self-distillation, every seed, paired by seed. The verdict (the
    report determines the label, adds information the image lacks, carries little, or
    inconclusive) is printed with its evidence per rule and the rule's thresholds. Runs are
    recorded in the results store, so a second screen trains nothing. Defaults: the light
    encoders (pixel patches, MiniLM sentences) at the catalogue's 20 epochs and lr 1e-3.

    Example: radsweep screen synth-prognostic --out screen-prognostic.yaml
    """
    from radsweep.runs.execute import RunHooks
    from radsweep.screen import ScreenOptions, Tracking, screen_task

    if wandb_mode not in (None, "online", "offline"):
        raise RadsweepError(f"--wandb {wandb_mode!r} is not a W&B mode", hint="online or offline")
    options = ScreenOptions(
        task=task,
        seeds=parse_seeds(seeds),
        fractions=parse_fractions(fractions),
        budget_minutes=budget_minutes,
        **{
            name: value
            for name, value in {
                **fields,
                "min_images": min_images,
                "min_per_class": min_per_class,
            }.items()
            if value is not None
        },
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
    if json_output:
        from radsweep.screen.report import screen_report

        print_model(screen_report(answer))
        return
    _print(answer)
