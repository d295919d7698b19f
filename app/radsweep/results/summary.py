"""Finished runs summarised one record each: what ``radsweep results ls`` prints as a table or as
JSON, so scripts and people read the same numbers."""

from typing import Any

import pandas as pd

from radsweep.stats import t_interval


def _finite(value: Any) -> float | None:
    """A float for JSON and tables; None for missing (NaN or None)."""
    return None if value is None or value != value else float(value)


def run_summaries(seeds: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per run, ordered by task and configuration: what the run was, how many seeds,
    and the mean final AUC with its 95 % t-interval (None for a single seed)."""
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
                "seeds": interval.n,
                "auc": float(interval.mean),
                "auc_ci95": [float(interval.low), float(interval.high)] if interval.n > 1 else None,
            }
        )
    return records
