"""``radsweep report``: the study's figures and tables as one HTML page, from the results store or
from a W&B project."""

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from radsweep.cli.context import console, err_console, settings
from radsweep.cli.options import ResultsDbOption

if TYPE_CHECKING:
    from radsweep.sweeps.runset import RunSetReport


def report(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option(help="Folder for report.html, figures/ (PNG, SVG) and data/ (CSV).")
    ],
    specs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Specs whose grids to draw, by name or file, each its own report "
            "(default: every shipped spec with stored runs).",
            metavar="SPEC",
            show_default=False,
        ),
    ] = None,
    source: ResultsDbOption = None,
    wandb_project: Annotated[
        str | None,
        typer.Option(
            "--from-wandb",
            help="Read finished runs from this W&B project instead (needs a W&B server).",
            metavar="ENTITY/PROJECT",
        ),
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="Instead of a spec: the runs of this task.")
    ] = None,
    backbone: Annotated[
        str | None, typer.Option(help="Instead of a spec: the runs of this backbone.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            help="Instead of a spec: runs whose setting equals a value (repeatable).",
            metavar="KEY=VALUE",
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
    """Write the figures and tables of one run set as a self-contained HTML page.

    A run set is a spec's grid (radsweep report demo) or explicit filters (--task, --backbone,
    --where epochs=20); stored runs of other settings or other data are listed, never drawn.
    Sample efficiency, distillation, ablations, Table 7 and per-epoch curves.
    report.html embeds every figure; figures/ has PNG and SVG, data/ the CSVs.
    Means across seeds with t-intervals: 90 % (sample efficiency), 95 % (rest).
    A half-done grid shows what exists and lists its missing points.

    Example: radsweep report --out ~/report
    """
    from radsweep.errors import RadsweepError
    from radsweep.results.frames import ResultFrames
    from radsweep.results.store import ResultsStore, default_store_path
    from radsweep.sweeps.runset import filter_run_set, report_run_sets, spec_run_set
    from radsweep.tracking.reader import frames_from_wandb

    if source is not None and wandb_project is not None:
        raise RadsweepError("--from and --from-wandb exclude each other", hint="choose one source")
    filters = {**dict(_pair(item) for item in where or [])}
    filters |= {key: value for key, value in (("task", task), ("backbone", backbone)) if value}
    if specs and filters:
        raise RadsweepError("name specs or filters, not both", hint="one run set per report")
    data = settings(ctx).data
    run_sets = [spec_run_set(spec, data) for spec in specs or []]
    run_sets += [filter_run_set(filters, data)] if filters else []
    with err_console.status("reading results"):
        if wandb_project is not None:
            frames = frames_from_wandb(wandb_project)
        else:
            store = ResultsStore.open_existing(source or default_store_path(settings(ctx)))
            frames = ResultFrames.from_store(store)
    keys: Iterable[str] = frames.runs.get("run_key", [])
    if unknown := [key for key in run or [] if sum(k.startswith(key) for k in keys) != 1]:
        raise RadsweepError(
            f"--run {unknown[0]} matches no run (or several) in {frames.source}",
            hint="pass a key or unique key prefix listed by `radsweep results ls`",
        )
    with err_console.status("drawing figures"):
        written, unclaimed = report_run_sets(frames, run_sets, out, data, run or [])
    for item in written:
        _print_written(item)
    if unclaimed:
        console.print(
            f"{unclaimed} stored runs belong to no drawn run set "
            "(draw them with --task, --backbone or --where)",
            markup=False,
        )


def _pair(item: str) -> tuple[str, str]:
    from radsweep.errors import RadsweepError

    key, sep, value = item.partition("=")
    if not sep or not key:
        raise RadsweepError(f"--where {item!r} is not KEY=VALUE", hint="e.g. --where epochs=20")
    return key.strip(), value.strip()


def _print_written(item: "RunSetReport") -> None:
    selection = item.selection
    name = selection.run_set.name
    if item.report is None:
        console.print(f"{name}: no stored runs", markup=False)
        return
    figures = sum(section.figure is not None for section in item.report.sections)
    console.print(
        f"{name}: {len(selection.keys)} runs, {figures} figures, "
        f"{len(selection.excluded)} runs left out (listed in the report)",
        markup=False,
        soft_wrap=True,
    )
    for section in item.report.sections:
        if section.missing:
            console.print(
                f"  {section.name}: {len(section.missing)} missing (listed in the report)",
                markup=False,
            )
    console.print(f"wrote {item.report.path}", markup=False, highlight=False, soft_wrap=True)
