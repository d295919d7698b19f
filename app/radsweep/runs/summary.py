"""One run as data: what ``radsweep train --json`` prints.

The numbers are read back from the results store under the run's key, whether the run trained
now or was already stored, so the JSON of a fresh run and of a stored one are the same document.
"""

import math
from typing import Any

import pandas as pd
from pydantic import BaseModel

from radsweep.results.store import ResultsStore
from radsweep.runs.outcome import RunOutcome
from radsweep.stats import Interval, t_interval

MODEL_STAGE, TEACHER_STAGE = "model", "teacher"


class SeedAUC(BaseModel):
    """One seed: its sample counts, final- and best-epoch metrics (best epoch counted from 1),
    its teacher's best-epoch AUC (distillation) and the image-only run's final AUC."""

    seed: int
    train: int | None
    validation: int | None
    final_auc: float | None
    final_auprc: float | None
    best_auc: float | None
    best_epoch: int | None
    teacher_auc: float | None = None
    image_only_auc: float | None = None


class MeanAUC(BaseModel):
    """The mean across seeds and its two-sided t-interval (None with one seed)."""

    mean: float
    low: float | None
    high: float | None
    level: float
    seeds: int

    @classmethod
    def of(cls, interval: Interval) -> "MeanAUC":
        return cls(
            mean=interval.mean,
            low=json_number(interval.low),
            high=json_number(interval.high),
            level=interval.level,
            seeds=interval.n,
        )


class RunSummary(BaseModel):
    """A run's resolved config, its key, whether this call trained it, and its numbers."""

    key: str
    trained: bool
    config: dict[str, Any]
    seeds: list[SeedAUC]
    final_auc: MeanAUC
    missing: int


def json_number(value: Any) -> float | None:
    """A table cell as JSON takes it: None for a missing or NaN number."""
    return None if value is None or math.isnan(float(value)) else float(value)


def json_count(value: Any) -> int | None:
    """A count cell (stored as a float beside NaNs) as an integer or None."""
    number = json_number(value)
    return None if number is None else int(number)


def _stage(rows: pd.DataFrame, stage: str) -> pd.DataFrame:
    return rows[rows["stage"] == stage].drop_duplicates("seed").set_index("seed")


def run_summary(outcome: RunOutcome, store: ResultsStore) -> RunSummary:
    """``outcome`` with its per-seed numbers as the store holds them under its key."""
    rows = store.seed_metrics(outcome.key)
    model, teacher = _stage(rows, MODEL_STAGE), _stage(rows, TEACHER_STAGE)
    baseline = (
        _stage(store.seed_metrics(outcome.baseline_key), MODEL_STAGE)
        if outcome.baseline_key
        else model.iloc[:0]
    )
    seeds = [
        SeedAUC(
            seed=int(str(seed)),
            train=json_count(row["n_train"]),
            validation=json_count(row["n_validation"]),
            final_auc=json_number(row["final_auc"]),
            final_auprc=json_number(row["final_auprc"]),
            best_auc=json_number(row["best_auc"]),
            best_epoch=json_count(row["best_epoch"]),
            teacher_auc=json_number(teacher["best_auc"].get(seed))
            if seed in teacher.index
            else None,
            image_only_auc=(
                json_number(baseline["final_auc"].get(seed)) if seed in baseline.index else None
            ),
        )
        for seed, row in model.iterrows()
    ]
    return RunSummary(
        key=outcome.key,
        trained=not outcome.skipped,
        config=outcome.config.model_dump(mode="json"),
        seeds=seeds,
        final_auc=MeanAUC.of(t_interval(model["final_auc"].to_numpy())),
        missing=outcome.missing,
    )
