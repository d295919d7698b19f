"""Result tables from a W&B project, for reports on runs that live on a W&B server.

A run is parsed with the inverses of what ``radsweep.tracking.schema`` builds for the writer:
the resolved config, per-epoch curves per seed and stage, sizes per seed from the summary.
Per-seed final and best metrics are read off those curves exactly as the store computes them, the
best at the epoch the summary names (held-out scoring chose it on rows the history lacks), and
the selection rows' AUC from the summary.
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


@dataclass(frozen=True)
class _Logged:
    """One run key as a W&B run holds it: the run's own, or the image-only baseline a
    distillation run logged inside it (``embedded``: no W&B run of its own)."""

    run: WandbRun
    config: RunConfig
    key: str
    cache_keys: list[str]
    curves: pd.DataFrame
    sizes: pd.DataFrame
    stage_values: pd.DataFrame
    embedded: bool = False


def _logged(run: WandbRun) -> list[_Logged]:
    """The run's own key and its embedded baseline's, each with curves (none: not radsweep's,
    or skipped)."""
    config = schema.config_from_wandb(run.config)
    if config is None:
        return []
    key = str(run.config[schema.RUN_KEY])
    found = [
        _Logged(
            run,
            config,
            key,
            list(run.config.get(schema.CACHE_KEYS) or []),
            schema.curves_from_history(run.history, key),
            schema.sizes_from_summary(run.summary, key),
            schema.stage_values_from_summary(run.summary, key),
        )
    ]
    entry = run.config.get(schema.BASELINE)
    baseline = schema.config_from_wandb(entry) if isinstance(entry, dict) else None
    if isinstance(entry, dict) and baseline is not None:
        base_key = str(entry[schema.RUN_KEY])
        columns = {str(name): values for name, values in run.history.items()}
        history = pd.DataFrame(schema.baseline_part(columns))
        if schema.STEP in run.history.columns:
            history[schema.STEP] = run.history[schema.STEP]
        found.append(
            _Logged(
                run,
                baseline,
                base_key,
                list(entry.get(schema.CACHE_KEYS) or []),
                schema.curves_from_history(history, base_key),
                schema.sizes_from_summary(schema.baseline_part(run.summary), base_key),
                schema.stage_values_from_summary(schema.baseline_part(run.summary), base_key),
                embedded=True,
            )
        )
    return [each for each in found if not each.curves.empty]


def _latest(runs: Iterable[WandbRun]) -> dict[str, _Logged]:
    """Per key, the latest run's own logging; a baseline logged inside a distillation run only
    for keys that have no run of their own."""
    latest: dict[str, _Logged] = {}
    for found in (found for run in runs for found in _logged(run)):
        held = latest.get(found.key)
        if (
            held is None
            or (held.embedded and not found.embedded)
            or (held.embedded == found.embedded and found.run.created_at > held.run.created_at)
        ):
            latest[found.key] = found
    return latest


def _run_row(found: _Logged) -> dict[str, Any]:
    values = found.config.model_dump(mode="json")
    flat = {
        name: json.dumps(value) if isinstance(value, list) else value
        for name, value in values.items()
    }
    run, own = found.run, not found.embedded
    meta = {
        "wandb_id": run.id,  # the run that logged it (its distillation run, for a baseline)
        "seconds": run.summary.get("seconds") if own else None,
        "task_digest": run.config.get(schema.TASK_DIGEST),
    }
    return {
        "run_key": found.key,
        "created_at": run.created_at,
        **{name: flat.get(name) for name in CONFIG_COLUMNS},
        "config": found.config.canonical(),
        "train_config": None,
        "cache_keys": json.dumps(sorted(found.cache_keys)),
        "meta": json.dumps(meta, sort_keys=True, default=str),
        "wandb_run_id": run.id if own else None,  # as in the store: a baseline has no run
        "wandb_url": run.url if own else None,
        "wandb_sweep_id": run.sweep_id if own else None,
    }


def frames_from_wandb_runs(runs: Iterable[WandbRun], source: str) -> ResultFrames:
    """The store's three tables from W&B runs (and the image-only baselines distillation runs
    logged inside them); runs without curves (skipped, or not radsweep's) are left out, and of
    runs sharing a key the latest is kept."""
    latest = list(_latest(runs).values())
    if not latest:
        raise RadsweepError(f"{source} has no finished radsweep runs with curves")
    runs_frame = pd.DataFrame([_run_row(found) for found in latest])
    runs_frame = runs_frame.sort_values("created_at", ignore_index=True, kind="stable")
    curve_frame = pd.concat([found.curves for found in latest], ignore_index=True)
    logged = [found.stage_values for found in latest if not found.stage_values.empty]
    seeds = seed_metrics_from_curves(
        curve_frame, pd.concat(logged, ignore_index=True) if logged else None
    )
    size_frame = pd.concat([found.sizes for found in latest], ignore_index=True).reindex(
        columns=["run_key", "seed", "n_train", "n_validation"]
    )
    seeds = seeds.drop(columns=["n_train", "n_validation"]).merge(
        size_frame, on=["run_key", "seed"], how="left"
    )[["run_key", *SEED_COLUMNS]]
    configs = runs_frame[["run_key", "created_at", *CONFIG_COLUMNS]]
    seeds = seeds.merge(configs, on="run_key").sort_values(
        ["created_at", "run_key", "stage", "seed"], ignore_index=True, kind="stable"
    )  # the store's order: where a grid repeats a seed, the first row is the earliest run's
    return ResultFrames(runs_frame, seeds, curve_frame, source)


def frames_from_wandb(path: str) -> ResultFrames:
    """``ResultFrames`` of the W&B project ``ENTITY/PROJECT`` (needs a reachable server)."""
    return frames_from_wandb_runs(fetch_runs(path), f"W&B project {path}")
