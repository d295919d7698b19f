"""``radsweep dashboard`` and ``radsweep sync``: a spec's panels in the W&B app, and offline runs
uploaded with their lineage. Both need a W&B server."""

from pathlib import Path
from typing import Annotated

import typer

from radsweep.cli.context import console, settings
from radsweep.cli.options import ResultsDbOption, SpecPath

Project = Annotated[
    str | None, typer.Option(help="W&B project (default: the spec's, else radsweep).")
]
Entity = Annotated[
    str | None, typer.Option(help="W&B entity (default: the spec's, else your default entity).")
]


def dashboard(
    ctx: typer.Context,
    spec: SpecPath,
    project: Project = None,
    entity: Entity = None,
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            help="A W&B sweep id of the spec whose runs the store has not seen yet (repeatable).",
            metavar="SWEEP_ID",
        ),
    ] = None,
    source: ResultsDbOption = None,
    timeout: Annotated[
        float, typer.Option(min=1.0, help="Seconds to wait for the W&B server.")
    ] = 60.0,
) -> None:
    """Save a W&B report and workspace view with the paper's panels for a spec's runs.

    AUC against training-set size per method and backbone, the paired findings (computed from
    the results store), per-epoch curves and the teacher against its student, each on the runs
    of the spec's W&B group only. Needs a W&B server and an API key.

    Example: radsweep dashboard fig3-readmission --entity my-team
    """
    from radsweep.results.store import default_store_path
    from radsweep.sweeps.dashboard import publish_dashboard

    saved = publish_dashboard(
        spec,
        settings(ctx),
        source or default_store_path(settings(ctx)),
        project=project,
        entity=entity,
        sweep_ids=sweep or [],
        timeout=timeout,
    )
    console.print(f"report: {saved.report_url}", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"workspace: {saved.workspace_url}", markup=False, highlight=False, soft_wrap=True
    )


def sync(
    ctx: typer.Context,
    project: Annotated[
        str, typer.Option(help="W&B project the offline runs were logged to.")
    ] = "radsweep",
    entity: Entity = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Results store to record the runs' URLs in (default: RESULTS/results.sqlite).",
            metavar="RESULTS_DB",
        ),
    ] = None,
) -> None:
    """Upload offline W&B runs (wandb sync), attach their feature-cache lineage, store URLs.

    Runs logged offline (radsweep sweep local, demo, or a server out of reach) are uploaded
    with W&B's own sync; each run that trained a stored result then declares the feature
    caches it read as inputs, and its URL goes to the results store. A second sync does
    nothing. Needs a W&B server and an API key.

    Example: radsweep sync --entity my-team
    """
    from radsweep.results.store import default_store_path
    from radsweep.tracking.sync import sync_offline

    done = sync_offline(
        settings(ctx),
        source or default_store_path(settings(ctx)),
        project=project,
        entity=entity,
    )
    if done.nothing_done:
        console.print(
            f"nothing to sync: {done.already} offline runs already uploaded with their lineage",
            markup=False,
        )
        return
    console.print(
        f"uploaded {len(done.uploaded)} offline runs; lineage attached to {len(done.linked)}; "
        f"{done.stored_urls} stored runs got their W&B URL",
        markup=False,
    )
    for run_id, url in done.linked.items():
        console.print(f"  {run_id}: {url}", markup=False, highlight=False, soft_wrap=True)
