"""Finished runs summarised one record each: what ``radsweep results ls`` prints as a table or as
JSON, so scripts and people read the same numbers."""

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from radsweep.stats import t_interval


def _finite(value: Any) -> float | None:
    """A float for JSON and tables; None for missing (NaN or None)."""
    return None if value is None or value != value else float(value)


def task_digests(runs: pd.DataFrame) -> dict[str, str | None]:
    """Each run's task data digest from its meta (None for runs recorded before it was kept)."""
    return {
        str(key): json.loads(meta or "{}").get("task_digest")
        for key, meta in zip(runs["run_key"], runs["meta"], strict=True)
    }


def _whole(value: Any) -> int | None:
    number = _finite(value)
    return None if number is None else int(number)


def run_summaries(
    seeds: pd.DataFrame, digests: Mapping[str, str | None] | None = None
) -> list[dict[str, Any]]:
    """One record per run, ordered by task and configuration: what the run was (with the
    settings that tell two runs apart: epochs, lr, text encoder, max length, task data), how many
    seeds, and the mean final AUC with its 95 % t-interval (None for a single seed)."""
    if seeds.empty:  # a store that holds no run has no config columns yet
        return []
    order = ["task", "method", "backbone", "head", "fraction", "tau", "lam", "created_at"]
    records = []
    for run in seeds.drop_duplicates("run_key").sort_values(order).itertuples(index=False):
        interval = t_interval(seeds.loc[seeds["run_key"] == run.run_key, "final_auc"], 0.95)
        image = isinstance(run.backbone, str)
        records.append(
            {
                "run_key": run.run_key,
                "task": run.task,
                "backbone": run.backbone if image else None,
                "method": run.method,
                "head": run.head if image else None,
                "fraction": _finite(run.fraction),
                "tau": _finite(run.tau),
                "lam": _finite(run.lam),
                "epochs": _whole(run.epochs),
                "lr": _finite(run.lr),
                "text_encoder": run.text_encoder if isinstance(run.text_encoder, str) else None,
                "max_length": _whole(run.max_length),
                "task_digest": (digests or {}).get(str(run.run_key)),
                "seeds": interval.n,
                "auc": float(interval.mean),
                "auc_ci95": [float(interval.low), float(interval.high)] if interval.n > 1 else None,
            }
        )
    return records
