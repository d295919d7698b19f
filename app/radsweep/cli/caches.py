"""``radsweep features ls`` and ``features verify``: what the feature cache holds, and whether
its bytes still match their checksums."""

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from radsweep.cli.context import console, settings
from radsweep.cli.options import JsonFlag
from radsweep.cli.output import print_json

if TYPE_CHECKING:
    from radsweep.features.verify import CacheCheck


def _size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def list_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List feature caches: key, encoder, task, views, state and size on disk.

    Example: radsweep features ls --json
    """
    from radsweep.features.listing import cache_statuses

    root = settings(ctx).cache
    rows = cache_statuses(root)
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    if not rows:
        console.print(f"no feature caches under {root} (radsweep features extract makes them)")
        return
    table = Table(title=f"feature caches in {root}", title_justify="left")
    table.add_column("key", overflow="fold")
    for column in ("encoder", "task", "views", "pool", "samples", "state", "size"):
        table.add_column(column, justify="right" if column in ("views", "samples") else "left")
    for row in rows:
        pool = f"{row.pool}x{row.pool}" if row.pool and row.pool > 1 else "-"
        cells = (row.encoder, row.task, row.views, pool, row.samples)
        table.add_row(
            row.key,
            *("-" if cell is None else str(cell) for cell in cells),
            row.state,
            _size(row.bytes),
        )
    console.print(table)


def verify(
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Argument(help="Cache key (default: every cache; see features ls).")
    ] = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Keep the shards that verify and drop the rest, so extract recomputes only them.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check caches byte for byte against their recorded sha256 checksums.

    Example: radsweep features verify --repair
    """
    from radsweep.features.verify import verify_caches

    root = settings(ctx).cache
    checked = verify_caches(root, key, repair)
    if as_json:
        print_json([check.summary() for check in checked.checks])
    elif not checked.checks:
        console.print(f"no feature caches under {root}")
    else:
        for check in checked.checks:
            _print_check(check)
    if error := checked.failure():
        raise error


def _print_check(check: "CacheCheck") -> None:
    result = check.verification
    state = "complete" if result.complete else "in progress"
    if result.ok:
        console.print(f"[green]ok[/] {result.key} ({state}, {result.shards} shards)")
        return
    console.print(
        f"[red]damaged[/] {result.key} ({state}): {len(result.bad_shards)} of {result.shards} "
        "shards affected"
    )
    for problem in result.problems:
        console.print(f"  {problem}", markup=False, highlight=False)
    if check.repair is not None:
        console.print(
            f"  repaired: kept {check.repair.kept} shard(s), dropped {check.repair.dropped}; "
            f"{check.resume}",
            markup=False,
            highlight=False,
        )
