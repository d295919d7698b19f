"""``radsweep sweep``: the study's sweep specs, on a W&B server or locally with no server."""

import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from radsweep.cli.context import console, err_console, progress_bar, settings
from radsweep.cli.options import DeviceOption, JsonFlag
from radsweep.cli.output import print_json
from radsweep.errors import SweepError

if TYPE_CHECKING:
    from radsweep.runs.config import RunConfig
    from radsweep.sweeps.plan import CacheCost, Device, Plan
    from radsweep.sweeps.queue import Failure, JobState
    from radsweep.sweeps.spec import SweepSpec

app = typer.Typer(
    help=(
        "W&B sweep specs (sweeps/*.yaml, one per experiment of the study): register them with "
        "W&B and run agents, or run a spec with no server (a local SQLite job queue, W&B runs in "
        "offline mode)."
    ),
    no_args_is_help=True,
)

SpecPath = Annotated[Path, typer.Argument(help="A sweep spec, e.g. sweeps/demo.yaml.")]
Project = Annotated[
    str | None, typer.Option(help="W&B project (default: the spec's, else radsweep).")
]
Entity = Annotated[
    str | None, typer.Option(help="W&B entity (default: the spec's, else your default entity).")
]
Timeout = Annotated[
    float, typer.Option(min=1.0, help="Seconds to wait for the W&B server before giving up.")
]
Device = DeviceOption


def _expanded(ctx: typer.Context, path: Path) -> tuple["SweepSpec", list["RunConfig"]]:
    from radsweep.sweeps.spec import expand, load_spec, task_specs

    spec = load_spec(path)
    return spec, expand(spec, task_specs(settings(ctx).data))


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


def _status_records(
    counts: dict[str, dict["JobState", int]], failures: dict[str, list["Failure"]]
) -> list[dict[str, object]]:
    return [
        {
            "spec": name,
            "counts": {state.value: count for state, count in by_state.items()},
            "total": sum(by_state.values()),
            "failures": [
                failure.config.model_dump(mode="json") | {"error": failure.error}
                for failure in failures[name]
            ],
        }
        for name, by_state in counts.items()
    ]


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
) -> None:
    """Run a spec with no W&B server: queue its configurations, drain them with worker processes.

    The queue is a SQLite file beside the results store (RESULTS/queue.sqlite); other processes
    or containers sharing that folder can run the same command and pull from it. Each run is a
    W&B run in offline mode under the W&B folder (wandb sync uploads them later; --online logs
    them to the server instead, offline again if it does not answer); finished
    configurations are never run twice. Ctrl-C puts running jobs back in line: run the same
    command to resume.
    """
    from radsweep.sweeps.local import Interrupted, run_local
    from radsweep.sweeps.queue import JobState, queue_path
    from radsweep.tasks.registry import find_task_directory

    loaded, configs = _expanded(ctx, spec)
    config = settings(ctx)
    for task in dict.fromkeys(run.task for run in configs):
        find_task_directory(task, config.data)  # a task with no manifest: one line, not N failures
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
                loaded.name,
                configs,
                config,
                workers=workers,
                device=device,
                retry_failed=retry_failed,
                project=project,
                lease=lease,
                on_progress=show,
                mode="online" if online else "offline",
            )
        except (KeyboardInterrupt, Interrupted):
            err_console.print("interrupted: running jobs are back in line; rerun to resume")
            raise typer.Exit(130) from None
    console.print(_counts_table({loaded.name: counts}))
    runs = config.wandb / "wandb" / "offline-run-*"
    console.print(f"offline W&B runs: {runs} (upload later: wandb sync {runs})", markup=False)
    if counts[JobState.FAILED]:
        err_console.print(
            f"{counts[JobState.FAILED]} runs failed: radsweep sweep status {spec} shows why; "
            "--retry-failed runs them again",
            markup=False,
        )
        raise typer.Exit(1)


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
    """
    from radsweep.sweeps.queue import JobQueue, queue_path

    path = queue_path(settings(ctx).results)
    if not path.is_file():
        if as_json:
            print_json({"queue": path, "sweeps": []})
            return
        console.print(f"no local sweeps yet ({path}): radsweep sweep local SPEC starts one")
        return
    name = Path(spec).stem if spec else None
    with JobQueue(path) as queue:
        queue.recover()
        counts = queue.counts(name)
        if name is not None and not counts:
            raise SweepError(
                f"no local sweep named {name} in {path}",
                hint=f"radsweep sweep local sweeps/{name}.yaml queues it",
            )
        failures = {spec_name: queue.failures(spec_name, errors) for spec_name in counts}
    if as_json:
        print_json({"queue": path, "sweeps": _status_records(counts, failures)})
        return
    console.print(_counts_table(counts))
    for spec_name, failed in failures.items():
        for failure in failed:
            config = failure.config
            what = " ".join(
                str(part)
                for part in (config.task, config.backbone, config.method.value, config.fraction)
                if part is not None
            )
            console.print(f"[red]failed[/] {spec_name} ({what}): {failure.error}", highlight=False)


@app.command()
def register(
    ctx: typer.Context,
    spec: SpecPath,
    project: Project = None,
    entity: Entity = None,
    timeout: Timeout = 60.0,
) -> None:
    """Register a spec as a W&B sweep; print its id and the command that starts agents.

    Needs a W&B server and an API key (W&B has no offline sweeps); with none, the error says so
    at once: run the spec with radsweep sweep local instead.
    """
    from radsweep.sweeps.remote import agent_commands
    from radsweep.sweeps.remote import register as register_spec
    from radsweep.sweeps.spec import suggestions

    loaded, configs = _expanded(ctx, spec)
    sweep = register_spec(loaded, project=project, entity=entity, timeout=timeout)
    runs = len(suggestions(loaded))
    console.print(
        f"registered {loaded.name}: sweep {sweep} ({runs} W&B runs, {len(configs)} distinct "
        "configurations)",
        markup=False,
    )
    console.print("start agents (on each GPU machine):")
    for command in agent_commands(sweep):
        console.print(f"  {command}", markup=False, highlight=False)


@app.command()
def agent(
    ctx: typer.Context,
    sweep: Annotated[str, typer.Argument(help="Sweep id, best as ENTITY/PROJECT/ID.")],
    count: Annotated[
        int | None, typer.Option(min=1, help="Runs to train before stopping (default: all).")
    ] = None,
    project: Project = None,
    entity: Entity = None,
    device: Device = None,
    timeout: Timeout = 60.0,
) -> None:
    """Run a W&B agent: train the configurations the sweep hands out, from cached features.

    Missing features are extracted first; each run's results go to the local results store too.
    SIGTERM (docker stop, a preempted node) marks the running run preempting, so W&B queues it
    again, and exits with 143. Needs a W&B server and an API key; without one, use
    radsweep sweep local.
    """
    from radsweep.sweeps.remote import run_agent

    run_agent(
        sweep,
        settings(ctx),
        count=count,
        project=project,
        entity=entity,
        device=device,
        timeout=timeout,
    )


@app.command("run-config", hidden=True)
def run_config(
    ctx: typer.Context,
    args_json: Annotated[str, typer.Argument(help="The run's parameters as JSON.")],
    spec: Annotated[
        str | None, typer.Option(help="The spec's name: the W&B group of the run.")
    ] = None,
    device: Device = None,
) -> None:
    """Train one configuration given as JSON: what a stock wandb agent launches.

    The specs' command passes --spec NAME ${args_json}; W&B's own keys (a leading underscore)
    are dropped. SIGTERM marks the run preempting (W&B queues it again) and exits with 143.
    """
    from radsweep.tracking.tracked import run_sweep_job

    outcome = run_sweep_job(args_json, settings(ctx), spec, device)
    verb = "already stored" if outcome.skipped else f"trained in {outcome.seconds:.1f} s"
    auc = "" if outcome.mean_auc is None else f", mean AUC {outcome.mean_auc:.3f}"
    console.print(f"run {outcome.key}: {verb}{auc}", markup=False)


@app.command("specs")
def specs(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the sweep specs shipped with radsweep: any command taking a spec accepts the name."""
    from radsweep.sweeps.packaged import packaged_specs
    from radsweep.sweeps.spec import expand, load_spec, task_specs

    tasks = task_specs(settings(ctx).data)
    records = []
    for name, path in packaged_specs().items():
        spec = load_spec(path)
        runs = len(expand(spec, tasks))
        description = str(spec.config.get("description", ""))
        records.append({"name": name, "path": path, "runs": runs, "description": description})
    if as_json:
        print_json({"specs": records})
        return
    table = Table(title="packaged sweep specs", title_justify="left")
    for column in ("name", "runs", "description"):
        table.add_column(
            column, no_wrap=column == "name", justify="right" if column == "runs" else "left"
        )
    for record in records:
        table.add_row(*(str(record[column]) for column in ("name", "runs", "description")))
    console.print(table)


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
        typer.Option(help="Project hours on this device: h100, a100, l4, t4, or measured."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Dry run: runs after de-duplication, feature caches, disk, FLOPs and projected hours.

    Hours divide the FLOPs by a device's sustained throughput: measured by `radsweep bench gpu`
    on this machine when it has saved one, else a nominal table (data-sheet peak x utilisation).
    """
    from radsweep.sweeps.plan import choose_devices, load_plan

    config = settings(ctx)
    planned = load_plan(spec or [], every, config.data)
    devices = choose_devices(device, config.home)
    disk = _Disk.of(config.cache, planned.cache_bytes)
    if as_json:
        print_json(_plan_record(planned, devices, disk))
        return
    for line in _plan_lines(planned, devices, disk):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class _Disk:
    """Whether the plan's caches fit on the disk that will hold them."""

    folder: Path  # the cache folder, or its nearest existing parent
    free: int
    needed: int

    @classmethod
    def of(cls, cache: Path, needed: int) -> "_Disk":
        folder = next(p for p in (cache, *cache.parents) if p.exists())
        return cls(folder, shutil.disk_usage(folder).free, needed)

    @property
    def fits(self) -> bool:
        return self.free >= self.needed


def _sorted(caches: "Sequence[CacheCost]") -> "list[CacheCost]":
    return sorted(caches, key=lambda cache: (cache.kind, cache.task, cache.encoder))


def _plan_record(planned: "Plan", devices: "list[Device]", disk: _Disk) -> dict[str, object]:
    from radsweep.sweeps.plan import PAPER_T4_HOURS

    hours = [(each, *planned.hours(each)) for each in devices]
    return {
        "specs": list(planned.specs),
        "runs": {"distinct": len(planned.runs), "listed": planned.listed},
        "caches": [asdict(cache) for cache in _sorted(planned.caches)],
        "disk": {
            "cache_bytes": disk.needed,
            "free_bytes": disk.free,
            "folder": disk.folder,
            "fits": disk.fits,
        },
        "flops": {
            "extraction": planned.extract_flops,
            "training": planned.train_flops,
            "validation": planned.eval_flops,
        },
        "devices": [
            asdict(each)
            | {"hours": {"extraction": extract, "training": train, "total": extract + train}}
            for each, extract, train in hours
        ],
        "paper_t4_hours": PAPER_T4_HOURS,
    }


def _plan_lines(planned: "Plan", devices: "list[Device]", disk: _Disk) -> list[str]:
    from radsweep.sweeps.plan import PAPER_T4_HOURS

    lines = [
        f"specs: {', '.join(planned.specs)}",
        f"runs: {len(planned.runs)} distinct ({planned.listed} listed; "
        f"{planned.listed - len(planned.runs)} shared between specs)",
        f"feature caches: {len(planned.caches)}",
    ]
    for item in _sorted(planned.caches):
        lines.append(
            f"  {item.kind:<5} {item.task:<16} {item.encoder:<17} {item.samples:>7} x "
            f"{item.views} view(s)  {_size(item.bytes):>9}"
        )
    verdict = "fits" if disk.fits else "DOES NOT FIT"
    lines += [
        f"disk: {_size(disk.needed)} of caches; {_size(disk.free)} free at {disk.folder} "
        f"({verdict})",
        f"FLOPs: extraction {planned.extract_flops:.3g}, training {planned.train_flops:.3g}, "
        f"validation {planned.eval_flops:.3g}",
    ]
    for each in devices:
        extract, train = planned.hours(each)
        lines.append(
            f"{each.name}: {extract + train:,.1f} h (extraction {extract:,.2f} h, training "
            f"{train:,.1f} h) [{each.source}]"
        )
    lines.append(f"the paper: about {PAPER_T4_HOURS:,} T4-hours for the whole study")
    return lines


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
