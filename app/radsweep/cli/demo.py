"""``radsweep demo``: the whole pipeline on the embedded synthetic benchmark, on a laptop CPU."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.box import SIMPLE
from rich.console import JustifyMethod
from rich.progress import Progress, TaskID
from rich.table import Table

from radsweep.cli.boundary import INTERRUPTED
from radsweep.cli.context import console, err_console, progress_bar, settings
from radsweep.tasks.synthetic.config import SynthConfig

if TYPE_CHECKING:  # heavy imports wait until the command runs
    from radsweep.demo import DemoHooks
    from radsweep.results.findings import Finding


def _interval(mean: float, low: float, high: float) -> str:
    cell = f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"
    style = "green" if low > 0 else ("red" if high < 0 else "")
    return f"[{style}]{cell}[/]" if style else cell


def _arms_table(found: list["Finding"]) -> Table:
    table = Table(
        title="Final-epoch AUC on held-out rows, mean over seeds", title_justify="left", box=SIMPLE
    )
    for column in ("task", "fraction", "image only", "teacher", "self-distill", "distill"):
        table.add_column(column, justify="left" if column == "task" else "right", no_wrap=True)
    for finding in found:
        table.add_row(
            finding.task,
            f"{finding.fraction:g}",
            *(
                f"{auc:.3f}"
                for auc in (finding.image, finding.teacher, finding.self_distill, finding.distill)
            ),
        )
    return table


def _gains_table(found: list["Finding"]) -> Table:
    """One row per comparison (long form), so the table fits an 80-column terminal."""
    table = Table(
        title="Did the report help? AUC gains paired by seed, 95 % t-interval",
        title_justify="left",
        caption="distill - self-distill is the control: the report's content, not soft targets.",
        caption_justify="left",
        box=SIMPLE,
        pad_edge=False,
    )
    for column in ("task", "fraction", "comparison", "gain [95 % CI]"):
        justify: JustifyMethod = "left" if column != "gain [95 % CI]" else "right"
        table.add_column(column, justify=justify, no_wrap=True)
    for finding in found:
        for index, gain in enumerate(finding.gains):
            first = index == 0
            interval = gain.interval
            table.add_row(
                finding.task if first else "",
                f"{finding.fraction:g}" if first else "",
                gain.label,
                _interval(interval.mean, interval.low, interval.high),
                end_section=index == len(finding.gains) - 1,
            )
    return table


def _hooks(bar: Progress) -> "DemoHooks":
    """Bars for drawing, features and runs; notes as plain lines on stdout."""
    from radsweep.demo import DemoHooks
    from radsweep.sweeps.queue import JobState

    jobs: dict[str, TaskID] = {}

    def advance(what: str, done: int, total: int) -> None:
        if what not in jobs:
            jobs[what] = bar.add_task(what, total=total)
        bar.update(jobs[what], completed=done, total=total)

    def runs(counts: dict[JobState, int]) -> None:
        finished = counts[JobState.DONE] + counts[JobState.FAILED]
        advance("runs", finished, sum(counts.values()))

    return DemoHooks(
        note=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True),
        drawing=lambda done, total: advance("drawing radiographs", done, total),
        extraction=lambda what, done, total: advance(f"features: {what}", done, total),
        runs=runs,
    )


def demo(
    ctx: typer.Context,
    samples: Annotated[
        int, typer.Option(help="Size of the synthetic benchmark.")
    ] = SynthConfig().samples,
    workers: Annotated[int, typer.Option(min=1, help="Sweep worker processes.")] = 2,
    out: Annotated[
        Path | None, typer.Option(help="Report folder (default: RESULTS/demo-report).")
    ] = None,
) -> None:
    """Run the whole pipeline on the embedded synthetic benchmark and write the HTML report.

    Builds the benchmark under DATA/synthetic, extracts features with two light encoders (8x8
    pixel patches; the report as all-MiniLM-L6-v2 sentence embeddings, no download), runs the
    demo sweep (sweeps/demo.yaml: image-only, self-distillation and distillation at fraction
    0.1, 40 seeds, scored on held-out rows) through the local queue with W&B offline, repeats the
    prognostic comparison on a second benchmark draw, then draws the report and prints the paired
    findings: per task, distillation and self-distillation against image-only and against each
    other, seed by seed, with a verdict that says what the seeds resolve and on how many draws it
    replicated. A second run reuses every cache, run and figure.

    Example: radsweep demo --workers 2
    """
    from radsweep.demo import run_demo

    try:
        with progress_bar("items") as bar:
            result = run_demo(
                settings(ctx), samples=samples, workers=workers, out=out, hooks=_hooks(bar)
            )
    except KeyboardInterrupt:
        err_console.print(
            "interrupted: the benchmark, features and finished runs are kept; run the same "
            "radsweep demo command again to resume where it stopped",
            markup=False,
        )
        raise typer.Exit(INTERRUPTED) from None
    console.print(_arms_table(result.findings))
    console.print(_gains_table(result.findings))
    for finding in result.findings:
        line = f"{finding.task} at fraction {finding.fraction:g}: {finding.verdict}"
        console.print(line, markup=False, highlight=False)
    console.print(f"report: {result.report}", markup=False, highlight=False, soft_wrap=True)
