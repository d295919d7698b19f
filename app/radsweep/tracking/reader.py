"""Result tables from a W&B project, for reports on runs that live on a W&B server.

A run is parsed with the inverses of what ``radsweep.tracking.schema`` builds for the writer:
the resolved config, per-epoch curves per seed and stage, sizes per seed from the summary.
Per-seed final and best metrics are read off those curves exactly as the store computes them.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from radsweep.errors import RadsweepError
from radsweep.results.frames import ResultFrames
from radsweep.results.rows import SEED_COLUMNS, seed_metrics_from_curves
from radsweep.runs.config import CONFIG_COLUMNS, RunConfig
from radsweep.tracking import schema

API_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class WandbRun:
    """What radsweep reads of one W&B run (plain data, fetched before any parsing)."""

    id: str
    created_at: str
    config: dict[str, Any]
    summary: dict[str, Any]
    history: pd.DataFrame
    url: str | None = None
    sweep_id: str | None = None


def fetch_runs(path: str, timeout: int = API_TIMEOUT_SECONDS) -> list[WandbRun]:
    """The finished runs of ``ENTITY/PROJECT`` with their full history; one error line if W&B
    cannot be reached (no API key, offline, unknown project, server down)."""
    if path.count("/") != 1 or not all(path.split("/")):
        raise RadsweepError(
            f"W&B project {path!r} is not ENTITY/PROJECT", hint="e.g. --from-wandb my-team/radsweep"
        )
    try:
        import wandb

        api = wandb.Api(timeout=timeout)
        return [
            WandbRun(
                id=run.id,
                created_at=str(run.created_at),
                config=dict(run.config),
                summary=dict(run.summary),
                history=pd.DataFrame(list(run.scan_history())),  # every row, not a sample
                url=run.url,
                sweep_id=run.sweep_name,  # the sweep id, with no extra request
            )
            for run in api.runs(path, filters={"state": "finished"})
        ]
    except Exception as error:  # W&B raises many kinds (usage, auth, comm, HTTP) for one cause
        reason = " ".join(str(error).split()) or type(error).__name__
        raise RadsweepError(
            f"cannot read runs of W&B project {path}: {reason}",
            hint="check `wandb login` and the network, or report from the local results store "
            "(radsweep report --from RESULTS_DB)",
        ) from error


def _run_row(run: WandbRun, config: RunConfig, key: str) -> dict[str, Any]:
    values = config.model_dump(mode="json")
    flat = {
        name: json.dumps(value) if isinstance(value, list) else value
        for name, value in values.items()
    }
    meta = {
        "wandb_id": run.id,
        "seconds": run.summary.get("seconds"),
        "task_digest": run.config.get(schema.TASK_DIGEST),
    }
    return {
        "run_key": key,
        "created_at": run.created_at,
        **{name: flat.get(name) for name in CONFIG_COLUMNS},
        "config": config.canonical(),
        "train_config": None,
        "cache_keys": json.dumps(sorted(run.config.get(schema.CACHE_KEYS) or [])),
        "meta": json.dumps(meta, sort_keys=True, default=str),
        "wandb_run_id": run.id,
        "wandb_url": run.url,
        "wandb_sweep_id": run.sweep_id,
    }


def frames_from_wandb_runs(runs: Iterable[WandbRun], source: str) -> ResultFrames:
    """The store's three tables from W&B runs; runs without curves (skipped, or not radsweep's)
    are left out, and of runs sharing a key the latest is kept."""
    latest: dict[str, tuple[WandbRun, RunConfig, pd.DataFrame]] = {}
    for run in runs:
        config = schema.config_from_wandb(run.config)
        if config is None:
            continue
        key = str(run.config[schema.RUN_KEY])
        run_curves = schema.curves_from_history(run.history, key)
        if not run_curves.empty and (
            key not in latest or run.created_at > latest[key][0].created_at
        ):
            latest[key] = (run, config, run_curves)
    run_rows = [_run_row(run, config, key) for key, (run, config, _) in latest.items()]
    curves = [run_curves for _, _, run_curves in latest.values()]
    sizes = [schema.sizes_from_summary(run.summary, key) for key, (run, _, _) in latest.items()]
    if not run_rows:
        raise RadsweepError(f"{source} has no finished radsweep runs with curves")
    runs_frame = pd.DataFrame(run_rows).sort_values("created_at", ignore_index=True)
    curve_frame = pd.concat(curves, ignore_index=True)
    seeds = seed_metrics_from_curves(curve_frame)
    size_frame = pd.concat(sizes, ignore_index=True).reindex(
        columns=["run_key", "seed", "n_train", "n_validation"]
    )
    seeds = seeds.drop(columns=["n_train", "n_validation"]).merge(
        size_frame, on=["run_key", "seed"], how="left"
    )[["run_key", *SEED_COLUMNS]]
    configs = runs_frame[["run_key", "created_at", *CONFIG_COLUMNS]]
    return ResultFrames(runs_frame, seeds.merge(configs, on="run_key"), curve_frame, source)


def frames_from_wandb(path: str) -> ResultFrames:
    """``ResultFrames`` of the W&B project ``ENTITY/PROJECT`` (needs a reachable server)."""
    return frames_from_wandb_runs(fetch_runs(path), f"W&B project {path}")
