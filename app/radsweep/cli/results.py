"""``radsweep results``: what the results store holds, and its tables as parquet or CSV."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from radsweep.cli.context import console, settings
from radsweep.cli.options import JsonFlag, ResultsDbOption
from radsweep.cli.output import print_json

if TYPE_CHECKING:
    from radsweep.results.store import ResultsStore

app = typer.Typer(
    help="The results store: list finished runs, export its tables as parquet or CSV.",
    no_args_is_help=True,
)


def _store(ctx: typer.Context, db: Path | None) -> "ResultsStore":
    from radsweep.results.store import ResultsStore, default_store_path

    return ResultsStore.open_existing(db or default_store_path(settings(ctx)))


@app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Folder for runs, seed_metrics and curves files.")],
    fmt: Annotated[
        str, typer.Option("--format", help="parquet or csv.", metavar="FORMAT")
    ] = "parquet",
    db: ResultsDbOption = None,
) -> None:
    """Write the store's three tables (runs, per-seed metrics, per-epoch curves) to OUT.

    Example: radsweep results export --out ~/tables --format csv
    """
    from radsweep.errors import RadsweepError
    from radsweep.results.export import ExportFormat, export_tables
    from radsweep.results.frames import ResultFrames

    if fmt not in set(ExportFormat):
        raise RadsweepError(f"unknown export format {fmt!r}", hint="use parquet or csv")
    store = _store(ctx, db)
    frames = ResultFrames.from_store(store)
    for path in export_tables(frames, out, ExportFormat(fmt)):
        console.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)


def _number(value: object) -> str:
    return "-" if value is None else f"{value:g}"


def _runs_table(title: str, records: list[dict[str, object]]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0))
    table.add_column("key", no_wrap=True)
    for column in ("backbone", "method", "head"):
        table.add_column(column, no_wrap=True)
    for column in ("frac.", "τ", "λ", "epochs", "lr", "seeds"):
        table.add_column(column, justify="right", no_wrap=True)
    for column in ("text", "max len", "data"):
        table.add_column(column, no_wrap=True)
    table.add_column("AUC ± 95% CI", justify="right", no_wrap=True)
    for run in records:
        interval = run["auc_ci95"]
        spread = f" ± {(interval[1] - interval[0]) / 2:.3f}" if isinstance(interval, list) else ""
        table.add_row(
            str(run["run_key"])[:8],
            str(run["backbone"] or "-"),
            str(run["method"]),
            str(run["head"] or "-"),
            _number(run["fraction"]),
            _number(run["tau"]),
            _number(run["lam"]),
            _number(run["epochs"]),
            _number(run["lr"]),
            str(run["seeds"]),
            str(run["text_encoder"] or "-"),
            _number(run["max_length"]),
            str(run["task_digest"] or "-"),
            f"{run['auc']:.3f}{spread}",
        )
    return table


@app.command("ls")
def list_runs(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option(help="Only this task's runs.")] = None,
    db: ResultsDbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List finished runs per task: configuration, seeds, mean final AUC with its 95 % t-interval.

    Keys (or their first characters) select runs for radsweep report --run.

    Example: radsweep results ls --task synth-prognostic
    """
    from radsweep.results.summary import run_summaries, task_digests

    store = _store(ctx, db)
    seeds = store.seed_metrics()
    seeds = seeds[seeds["stage"] == "model"]
    if task is not None and not seeds.empty:  # an empty store has no config columns yet
        seeds = seeds[seeds["task"] == task]
    records = run_summaries(seeds, task_digests(store.runs()))
    if as_json:
        print_json({"results_db": store.path, "runs": records})
        return
    for name in sorted({str(run["task"]) for run in records}):
        rows = [run for run in records if run["task"] == name]
        console.print(_runs_table(f"{name} ({store.path})", rows))
    console.print(f"{len(records)} runs. Tables for pandas: radsweep results export --out DIR")


@app.command("teachers")
def teachers(
    ctx: typer.Context,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Remove the teachers whose feature caches are gone."),
    ] = False,
    db: ResultsDbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List the distillation teachers the store keeps: the runs of a τ/λ grid (or of a screen
    and a sweep) that share one train it once. No run can use a teacher whose feature caches
    are gone; --prune removes those.

    Example: radsweep results teachers --prune
    """
    from dataclasses import asdict

    from radsweep.results.store import ResultsStore
    from radsweep.results.teachers import kept_teachers, prune_teachers

    store = _store(ctx, db)
    cache = settings(ctx).cache
    removed = prune_teachers(ResultsStore(store.path), cache) if prune else []
    rows = kept_teachers(store, cache)
    if as_json:
        listed = [asdict(row) for row in rows]
        removed_keys = [row.key for row in removed]
        print_json({"results_db": store.path, "teachers": listed, "removed": removed_keys})
        return
    if prune:
        console.print(f"removed {len(removed)} teachers whose feature caches are gone")
    table = Table(title=f"teachers in {store.path}", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("key", "task", "backbone", "method", "caches", "size", "created"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        caches = "present" if row.caches_present else "gone"
        size = f"{row.bytes / 1024:.0f} KiB"
        cells = (row.key[:8], row.task, row.backbone or "-", row.method, caches, size)
        table.add_row(*cells, row.created_at[:19])
    console.print(table)
    console.print(f"{len(rows)} teachers.")
