"""``radsweep sweep register``, ``agent`` and ``run-config``: the sweep commands that need a
W&B server (``sweep local`` runs a spec without one)."""

from typing import Annotated

import typer

from radsweep.cli.context import console, settings
from radsweep.cli.options import DeviceOption, SpecPath, UploadHeadsFlag

Project = Annotated[
    str | None, typer.Option(help="W&B project (default: the spec's, else radsweep).")
]
Entity = Annotated[
    str | None, typer.Option(help="W&B entity (default: the spec's, else your default entity).")
]
Timeout = Annotated[
    float, typer.Option(min=1.0, help="Seconds to wait for the W&B server before giving up.")
]


def register(
    ctx: typer.Context,
    spec: SpecPath,
    project: Project = None,
    entity: Entity = None,
    timeout: Timeout = 60.0,
    missing: Annotated[
        bool,
        typer.Option(
            "--missing",
            help="Register only the configurations the results store has no run of "
            "(crashed or cancelled runs get a second chance).",
        ),
    ] = False,
) -> None:
    """Register a spec as a W&B sweep; print its id and the command that starts agents.

    Needs a W&B server and an API key (W&B has no offline sweeps); with none, the error says so
    at once: run the spec with radsweep sweep local instead.

    Example: radsweep sweep register demo --project radsweep
    """
    from radsweep.results.store import default_store_path
    from radsweep.sweeps.missing import missing_sweep
    from radsweep.sweeps.remote import agent_commands
    from radsweep.sweeps.remote import register as register_spec
    from radsweep.sweeps.spec import load_and_expand, suggestions

    loaded, configs = load_and_expand(spec, settings(ctx).data)
    if missing:
        store = default_store_path(settings(ctx))
        cut = missing_sweep(loaded, configs, store, settings(ctx).data)
        if not cut.configs:
            console.print(
                f"nothing to register: {store} holds all {cut.total} configurations of "
                f"{loaded.name}",
                markup=False,
            )
            return
        console.print(
            f"{len(cut.configs)} of {cut.total} configurations of {loaded.name} have no run "
            f"in {store}",
            markup=False,
        )
        loaded, configs = cut.spec, cut.configs
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


def agent(
    ctx: typer.Context,
    sweep: Annotated[str, typer.Argument(help="Sweep id, best as ENTITY/PROJECT/ID.")],
    count: Annotated[
        int | None, typer.Option(min=1, help="Runs to train before stopping (default: all).")
    ] = None,
    project: Project = None,
    entity: Entity = None,
    device: DeviceOption = None,
    timeout: Timeout = 60.0,
    upload_heads: UploadHeadsFlag = False,
) -> None:
    """Run a W&B agent: train the configurations the sweep hands out, from cached features.

    Missing features are extracted first; each run's results go to the local results store too.
    SIGTERM (docker stop, a preempted node) marks the running run preempting, so W&B queues it
    again, and exits with 143; so does SIGINT (exit 130). Once the sweep has nothing left
    (finished or cancelled) the agent says so and exits 0 instead of waiting. Needs a W&B server
    and an API key; without one, use radsweep sweep local.

    Example: radsweep sweep agent ENTITY/PROJECT/ID --count 10
    """
    from radsweep.sweeps.remote import run_agent

    folders = settings(ctx)
    if upload_heads:  # a spec's upload_heads: true reaches each run as a parameter
        folders = folders.model_copy(update={"upload_heads": True})
    done = run_agent(
        sweep,
        folders,
        count=count,
        project=project,
        entity=entity,
        device=device,
        timeout=timeout,
    )
    if done:
        console.print(f"sweep {sweep} has nothing left to run: agent done", markup=False)


def run_config(
    ctx: typer.Context,
    args_json: Annotated[str, typer.Argument(help="The run's parameters as JSON.")],
    spec: Annotated[
        str | None, typer.Option(help="The spec's name: the W&B group of the run.")
    ] = None,
    device: DeviceOption = None,
    upload_heads: UploadHeadsFlag = False,
) -> None:
    """Train one configuration given as JSON: what a stock wandb agent launches.

    The specs' command passes --spec NAME ${args_json}; W&B's own keys (a leading underscore)
    are dropped. SIGTERM or SIGINT from the machine marks the run preempting (W&B queues it
    again) and exits with 128 + the signal (143 for SIGTERM); a stop from the sweep's server
    (which the stock agent also sends as SIGTERM) ends it as stopped, exit 0.
    """
    from radsweep.sweeps.agents import run_sweep_job

    folders = settings(ctx)
    if upload_heads:
        folders = folders.model_copy(update={"upload_heads": True})
    outcome = run_sweep_job(args_json, folders, spec, device)
    if outcome.stopped:
        console.print("run stopped by its sweep: nothing stored", markup=False)
        return
    verb = "already stored" if outcome.skipped else f"trained in {outcome.seconds:.1f} s"
    auc = "" if outcome.mean_auc is None else f", mean AUC {outcome.mean_auc:.3f}"
    console.print(f"run {outcome.key}: {verb}{auc}", markup=False)


def register_commands(app: typer.Typer) -> None:
    """Add these commands to the ``sweep`` group."""
    app.command("register")(register)
    app.command()(agent)
    app.command("run-config", hidden=True)(run_config)
