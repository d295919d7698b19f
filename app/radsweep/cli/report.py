"""``radsweep report``: the study's figures and tables as one HTML page, from the results store or
from a W&B project."""

from pathlib import Path
from typing import Annotated

import typer

from radsweep.cli.context import console, err_console, settings
from radsweep.cli.options import ResultsDbOption


def report(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option(help="Folder for report.html, figures/ (PNG, SVG) and data/ (CSV).")
    ],
    source: ResultsDbOption = None,
    wandb_project: Annotated[
        str | None,
        typer.Option(
            "--from-wandb",
            help="Read finished runs from this W&B project instead (needs a W&B server).",
            metavar="ENTITY/PROJECT",
        ),
    ] = None,
    run: Annotated[
        list[str] | None,
        typer.Option(
            help="Draw per-epoch AUC curves for this run key or unique key prefix (repeatable; "
            "keys: radsweep results ls). Default: one run per task and method.",
            metavar="RUN_KEY",
        ),
    ] = None,
) -> None:
    """Write the study's figures and tables as one self-contained HTML page.

    Sample efficiency, distillation, ablations, Table 7 and per-epoch curves.
    report.html embeds every figure; figures/ has PNG and SVG, data/ the CSVs.
    Means across seeds with t-intervals: 90 % (sample efficiency), 95 % (rest).
    A half-done grid shows what exists and lists its missing points.

    Example: radsweep report --out ~/report
    """
    from radsweep.errors import RadsweepError
    from radsweep.reports.build import make_report
    from radsweep.results.frames import ResultFrames
    from radsweep.results.store import ResultsStore, default_store_path
    from radsweep.tracking.reader import frames_from_wandb

    if source is not None and wandb_project is not None:
        raise RadsweepError("--from and --from-wandb exclude each other", hint="choose one source")
    with err_console.status("reading results"):
        if wandb_project is not None:
            frames = frames_from_wandb(wandb_project)
        else:
            store = ResultsStore.open_existing(source or default_store_path(settings(ctx)))
            frames = ResultFrames.from_store(store)
    keys = frames.runs.get("run_key", [])
    if unknown := [key for key in run or [] if sum(k.startswith(key) for k in keys) != 1]:
        raise RadsweepError(
            f"--run {unknown[0]} matches no run (or several) in {frames.source}",
            hint="pass a key or unique key prefix listed by `radsweep results ls`",
        )
    with err_console.status("drawing figures"):
        written = make_report(frames, out, run or [])
    figures = sum(section.figure is not None for section in written.sections)
    console.print(f"{figures} figures from {frames.source}", markup=False, soft_wrap=True)
    for section in written.sections:
        if section.missing:
            console.print(
                f"  {section.name}: {len(section.missing)} missing (listed in the report)",
                markup=False,
            )
    console.print(f"wrote {written.path}", markup=False, highlight=False, soft_wrap=True)
