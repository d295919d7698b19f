"""``radsweep demo``: the whole pipeline on the embedded synthetic benchmark, on a laptop CPU."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.box import SIMPLE
from rich.table import Table

from radsweep.cli.context import console, progress_bar, settings
from radsweep.cli.data import build_synthetic
from radsweep.cli.sweep import local
from radsweep.tasks.synthetic import SynthConfig

if TYPE_CHECKING:  # heavy imports wait until the command runs
    from radsweep.results.findings import Finding
    from radsweep.runs.config import RunConfig


def _extract(ctx: typer.Context) -> list[str]:
    """The demo's run keys, with every feature cache extracted first."""
    from radsweep.demo import demo_configs, extract_features, run_keys
    from radsweep.runs.execute import RunHooks

    config = settings(ctx)
    configs: list[RunConfig] = demo_configs(config)
    with progress_bar("samples") as bar:
        jobs: dict[str, int] = {}

        def advance(what: str, done: int, total: int) -> None:
            if what not in jobs:
                jobs[what] = bar.add_task(f"features: {what}", total=total)
            bar.update(jobs[what], completed=done, total=total)

        cache_keys = extract_features(configs, config, RunHooks(extraction=advance))
    return run_keys(configs, cache_keys, config)


def _interval(mean: float, low: float, high: float) -> str:
    cell = f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"
    style = "green" if low > 0 else ("red" if high < 0 else "")
    return f"[{style}]{cell}[/]" if style else cell


def _arms_table(found: list["Finding"]) -> Table:
    table = Table(
        title="Final-epoch validation AUC, mean over seeds", title_justify="left", box=SIMPLE
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
        justify = "left" if column != "gain [95 % CI]" else "right"
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


def _report(ctx: typer.Context, keys: list[str], out: Path) -> tuple[Path, list["Finding"]]:
    from radsweep.demo import demo_frames, findings, report_is_current, write_fingerprint
    from radsweep.reports.build import make_report
    from radsweep.results.store import ResultsStore, default_store_path

    frames = demo_frames(ResultsStore.open_existing(default_store_path(settings(ctx))), keys)
    if report_is_current(out, keys):
        console.print(f"report unchanged: the same {len(keys)} runs", markup=False)
    else:
        with console.status("drawing the report"):
            make_report(frames, out)
            write_fingerprint(out, keys)
    return out / "report.html", findings(frames)


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
    demo sweep (sweeps/demo.yaml: image-only, self-distillation and distillation at two training
    sizes, 5 seeds) through the local queue with W&B offline, then draws the report and prints
    the paired findings: per task and fraction, distillation and self-distillation against
    image-only and against each other, seed by seed, with a verdict. A second run reuses every
    cache, run and figure.
    """
    config = settings(ctx)
    build_synthetic(SynthConfig(samples=samples), config.synthetic, force=False)
    keys = _extract(ctx)
    from radsweep.demo import DEMO_SPEC, stored
    from radsweep.results.store import default_store_path

    if stored(default_store_path(config), keys):
        console.print(f"all {len(keys)} runs of the demo sweep are stored: nothing to train")
    else:
        local(ctx, DEMO_SPEC, workers=workers)
    path, found = _report(ctx, keys, out or config.results / "demo-report")
    console.print(_arms_table(found))
    console.print(_gains_table(found))
    for finding in found:
        line = f"{finding.task} at fraction {finding.fraction:g}: {finding.verdict}"
        console.print(line, markup=False, highlight=False)
    console.print(f"report: {path}", markup=False, highlight=False, soft_wrap=True)
