"""A screen as one W&B run: its settings as config, its table, the verdict as summary.

Numbers and settings only; the table never holds report text or identifiers. Like every run
radsweep logs, an online run the server does not start logs offline instead, and finishing it
runs under a timeout.
"""

from typing import Any

import pandas as pd
import wandb

from radsweep.settings import Settings
from radsweep.tracking.session import finish, init_run


def log_screen(
    table: pd.DataFrame,
    config: dict[str, Any],
    summary: dict[str, Any],
    *,
    mode: str,
    project: str,
    entity: str | None,
    settings: Settings,
) -> str:
    """Log the screen of one task; the run's local folder (``wandb sync`` uploads it)."""
    settings.wandb.mkdir(parents=True, exist_ok=True)
    run = init_run(
        mode,
        project=project,
        entity=entity,
        job_type="screen",
        name=f"screen-{config['task']}",
        config=config,
        dir=str(settings.wandb),
        reinit="finish_previous",
    )
    try:
        run.log({"screen": wandb.Table(dataframe=table)})
        run.summary.update(summary)
    except BaseException:
        finish(run, exit_code=1)
        raise
    finish(run)
    return str(run.settings.sync_dir)
