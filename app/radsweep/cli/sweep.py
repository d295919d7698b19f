"""``radsweep sweep``: the study's sweep specs, on a W&B server or locally with no server."""

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from radsweep.cli import sweep_wandb
from radsweep.cli.boundary import INTERRUPTED
from radsweep.cli.context import console, err_console, progress_bar, settings
from radsweep.cli.options import DeviceOption, JsonFlag, SpecPath, UploadHeadsFlag
from radsweep.cli.output import print_json
from radsweep.errors import SweepError

if TYPE_CHECKING:
    from radsweep.runs.config import RunConfig
    from radsweep.sweeps.queue import JobState
    from radsweep.sweeps.spec import SweepSpec

app = typer.Typer(
    help=(
        "W&B sweep specs (sweeps/*.yaml, one per experiment of the study): register them with "
        "W&B and run agents, or run a spec with no server (a local SQLite job queue, W&B runs in "
        "offline mode)."
    ),
    no_args_is_help=True,
)

Device = DeviceOption


def expanded(ctx: typer.Context, path: Path) -> tuple["SweepSpec", list["RunConfig"]]:
    """The spec at ``path`` (or by name) and its de-duplicated configurations."""
    from radsweep.sweeps.spec import load_and_expand

    return load_and_expand(path, settings(ctx).data)


def _counts_table(counts: dict[str, dict["JobState", int]]) -> Table:
    from radsweep.sweeps.queue import JobState

    table = Table(title="local sweeps", title_justify="left")
    table.add_column("spec", no_wrap=True)
    styles = {JobState.DONE: "green", JobState.RUNNING: "cyan", JobState.FAILED: "red"}
    for state in JobState:
        table.add_column(state.value, justify="right", style=styles.get(state))
    table.add_column("total", justify="right")
    for spec, by_state in counts.items():
        cells = [str(by_state[state]) for state in JobState]
        table.add_row(spec, *cells, str(sum(by_state.values())))
    return table


@app.command()
def local(
    ctx: typer.Context,
    spec: SpecPath,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (1: run in this process).")
    ] = 1,
    device: Device = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Put the spec's failed runs back in line.")
    ] = False,
    project: Annotated[str, typer.Option(help="W&B project of the runs.")] = "radsweep",
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Log the runs to the W&B server as they train (needs an API key); a run the "
            "server does not start within WANDB_INIT_TIMEOUT seconds (default 90) logs offline.",
        ),
    ] = False,
    lease: Annotated[
        float,
        typer.Option(min=3.0, help="Seconds a silent worker keeps its job before others take it."),
    ] = 120.0,
    upload_heads: UploadHeadsFlag = False,
) -> None:
    """Run a spec with no W&B server: queue its configurations, drain them with worker processes.

    The queue is a SQLite file beside the results store (RESULTS/queue.sqlite); other processes
    or containers sharing that folder can run the same command and pull from it. Each run is a
    W&B run in offline mode under the W&B folder (wandb sync uploads them later; --online logs
    them to the server instead, offline again if it does not answer); finished
    configurations are never run twice. Ctrl-C puts running jobs back in line: run the same
    command to resume.

    Example: radsweep sweep local demo --workers 2
    """
    from radsweep.sweeps.local import Interrupted, run_local
    from radsweep.sweeps.queue import JobState, queue_path
    from radsweep.tracking.folders import sync_hint

    loaded, configs = expanded(ctx, spec)
    config = settings(ctx)
    if upload_heads or loaded.upload_heads:
        config = config.model_copy(update={"upload_heads": True})
    console.print(
        f"{loaded.name}: {len(configs)} configurations, {workers} worker(s), "
        f"queue {queue_path(config.results)}",
        markup=False,
    )
    with progress_bar("runs") as bar:
        task = bar.add_task(loaded.name, total=len(configs))

        def show(counts: dict[JobState, int]) -> None:
            bar.update(
                task,
                total=sum(counts.values()),
                completed=counts[JobState.DONE] + counts[JobState.FAILED],
                description=f"{loaded.name}: {counts[JobState.RUNNING]} running, "
                f"{counts[JobState.FAILED]} failed",
            )

        try:
            counts = run_local(
                loaded.queue_name,
                configs,
                config,
                workers=workers,
                device=device,
                retry_failed=retry_failed,
                project=project,
                lease=lease,
                on_progress=show,
                mode="online" if online else "offline",
                group=loaded.name,
            )
        except (KeyboardInterrupt, Interrupted):
            err_console.print("interrupted: running jobs are back in line; rerun to resume")
            raise typer.Exit(INTERRUPTED) from None
    console.print(_counts_table({loaded.name: counts}))
    console.print(sync_hint(config.wandb), markup=False)
    if counts[JobState.FAILED]:  # the runs' inputs or settings, not radsweep: exit 2
        raise SweepError(
            f"{counts[JobState.FAILED]} of {len(configs)} runs of {loaded.name} failed",
            hint=f"`radsweep sweep status {spec}` shows why; --retry-failed runs them again",
        )


@app.command()
def status(
    ctx: typer.Context,
    spec: Annotated[
        str | None, typer.Argument(help="A spec file or name (default: every local sweep).")
    ] = None,
    errors: Annotated[int, typer.Option(min=0, help="Failed runs to list per spec.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """Show the local queue: done / running / failed / pending runs per spec, and why runs failed.

    Jobs whose worker has died are put back to pending first, so the counts are current.

    Example: radsweep sweep status demo
    """
    from radsweep.sweeps.local import sweep_status

    found = sweep_status(settings(ctx).results, spec, errors)
    if as_json:
        print_json({"queue": found.queue, "sweeps": found.records()})
        return
    if not found.counts:
        console.print(f"no local sweeps yet ({found.queue}): radsweep sweep local SPEC starts one")
        return
    console.print(_counts_table(found.counts))
    for spec_name, failed in found.failures.items():
        for failure in failed:
            config = failure.config
            what = " ".join(
                str(part)
                for part in (config.task, config.backbone, config.method.value, config.fraction)
                if part is not None
            )
            console.print(f"[red]failed[/] {spec_name} ({what}): {failure.error}", highlight=False)


@app.command("specs")
def specs(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the sweep specs shipped with radsweep: any command taking a spec accepts the name.

    Example: radsweep sweep specs --json
    """
    from radsweep.sweeps.spec import packaged_summaries

    summaries = packaged_summaries(settings(ctx).data)
    if as_json:
        print_json({"specs": [asdict(summary) for summary in summaries]})
        return
    table = Table(title="packaged sweep specs", title_justify="left")
    for column in ("name", "runs", "description"):
        table.add_column(
            column, no_wrap=column == "name", justify="right" if column == "runs" else "left"
        )
    for summary in summaries:
        table.add_row(summary.name, str(summary.runs), summary.description)
    console.print(table)


AGENTS_HELP = "Price runs one at a time, as W&B agents run them (default: grids grouped)."


@app.command("plan")
def plan(
    ctx: typer.Context,
    spec: Annotated[
        list[str] | None,
        typer.Argument(help="Specs to plan: paths or packaged names (radsweep sweep specs)."),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Plan every study spec (all but the demo) together.")
    ] = False,
    device: Annotated[
        str | None,
        typer.Option(
            help="Project onto this device (h100, a100, l4, t4, or measured: the kind `radsweep "
            "bench gpu` ran on) and show its peak memory per backbone."
        ),
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(help="Price every run's heads at fp32, tf32 or bf16 (default: each run's)."),
    ] = None,
    agents: Annotated[bool, typer.Option("--agents", help=AGENTS_HELP)] = False,
    as_json: JsonFlag = False,
) -> None:
    """Dry run: runs after de-duplication, feature caches, disk, FLOPs, hours and memory.

    Hours count each step's FLOPs at an achieved share of the device's ceiling for the runs'
    precision, the memory-bound attention traffic, a per-step floor, per-run overhead, cache reads
    and uploads; every assumption is printed (--json carries them). Where `radsweep bench gpu`
    measured the same kind of device, its rates replace the assumed ones. A τ/λ grid's students
    are priced as `sweep local` trains them, in one pass (--agents: one run at a time).

    Example: radsweep sweep plan --all --device h100
    """
    from radsweep.sweeps.plan import plan_report

    report = plan_report(spec or [], every, settings(ctx), device, precision, not agents)
    if as_json:
        print_json(report.record())
        return
    for line in report.lines():
        console.print(line, markup=False, highlight=False, soft_wrap=True)


sweep_wandb.register_commands(app)
