"""From per-seed rows to plotted points: which runs a figure uses, their means and t-intervals,
and which points of the figure's grid have no run yet.

Every figure reads the ``model`` stage's final-epoch metrics (see ``radsweep.training.results``).
"""

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from radsweep.reports.style import backbone_label, task_title, text_label
from radsweep.runs.config import DEFAULT_LAMBDA, DEFAULT_TEXT_ENCODER
from radsweep.stats import t_interval
from radsweep.tasks.registry import KNOWN_TASKS

DIMENSION_NAMES = {
    "series": "",
    "fraction": "fraction",
    "arm": "",
    "head": "head",
    "tau": "τ",
    "lam": "λ",
    "text_encoder": "text encoder",
}


def with_series(seeds: pd.DataFrame) -> pd.DataFrame:
    """Add ``series``: the backbone's display name (with its variant), or the text encoder's for
    text-only runs."""
    frame = seeds.copy()
    frame["series"] = [
        backbone_label(backbone, variant if isinstance(variant, str) else None)
        if isinstance(backbone, str)
        else text_label(str(encoder))
        for backbone, variant, encoder in zip(
            frame["backbone"], frame["variant"], frame["text_encoder"], strict=True
        )
    ]
    return frame


def _equal(values: pd.Series, wanted: Any) -> pd.Series:
    if isinstance(wanted, float):
        return pd.Series(np.isclose(values.astype(float), wanted), index=values.index)
    return values == wanted


def default_tau(task: str) -> float | None:
    spec = KNOWN_TASKS.get(task)
    return spec.default_tau if spec else None


MAIN_SETTINGS: dict[str, Callable[[str], Any]] = {
    "tau": default_tau,
    "lam": lambda task: DEFAULT_LAMBDA,
    "text_encoder": lambda task: DEFAULT_TEXT_ENCODER,
}
"""The study's main setting of each distillation knob; ablations vary one of them."""


def prefer(rows: pd.DataFrame, column: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per task, the rows at the main setting of ``column`` (or, if none ran at it, at the most
    common one); also the value kept per task."""
    kept, chosen = [], {}
    for task, group in rows.groupby("task", sort=True):
        wanted = MAIN_SETTINGS[column](str(task))
        match = _equal(group[column], wanted) if wanted is not None else None
        if match is None or not match.any():
            wanted = group[column].mode().iloc[0]
            match = _equal(group[column], wanted)
        kept.append(group[match])
        chosen[str(task)] = wanted
    return (pd.concat(kept) if kept else rows.iloc[:0]), chosen


def describe(values: dict[str, Any]) -> str:
    """``Synthetic prognostic: RAD-DINO, fraction 0.1`` for one grid point."""
    values = dict(values)
    task = task_title(str(values.pop("task")))
    parts = []
    for name, value in values.items():
        text = f"{value:g}" if isinstance(value, float) else str(value)
        label = DIMENSION_NAMES.get(name, name)
        parts.append(f"{label} {text}" if label else text)
    return f"{task}: " + ", ".join(parts)


def latest_per_point(rows: pd.DataFrame, point: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """One run per grid point: where several runs share a point (they differ in a setting the
    figure does not show, or were re-run), the latest is kept and a note says so."""
    point = list(point)
    runs = rows.drop_duplicates("run_key").sort_values(["created_at", "run_key"])
    keep = runs.drop_duplicates(point, keep="last")
    notes = []
    counts = runs.groupby(point, dropna=False).size()
    for values, count in counts[counts > 1].items():
        values = values if isinstance(values, tuple) else (values,)
        where = dict(zip(point, values, strict=True))
        key = keep[(keep[point] == pd.Series(where)).all(axis=1)]["run_key"].iloc[0]
        notes.append(f"{describe(where)}: {count} runs, the latest ({key[:8]}) is shown")
    return rows[rows["run_key"].isin(keep["run_key"])], notes


def point_stats(
    rows: pd.DataFrame, point: Sequence[str], metric: str, level: float
) -> pd.DataFrame:
    """Mean and two-sided t-interval across seeds of ``metric`` per point, with the sizes."""
    records = []
    for values, group in rows.groupby(list(point), sort=True, dropna=False):
        finite = group[metric].dropna().to_numpy(dtype=float)
        if finite.size == 0:
            continue
        interval = t_interval(finite, level)
        records.append(
            {
                **dict(zip(point, values, strict=True)),
                "metric": metric,
                "mean": interval.mean,
                "low": interval.low,
                "high": interval.high,
                "level": level,
                "sd": float(finite.std(ddof=1)) if finite.size > 1 else float("nan"),
                "seeds": interval.n,
                "n_train": float(group["n_train"].mean()),
                "n_validation": float(group["n_validation"].mean()),
                "run_key": group["run_key"].iloc[0],
            }
        )
    columns = [
        *point,
        "metric",
        "mean",
        "low",
        "high",
        "level",
        "sd",
        "seeds",
        "n_train",
        "n_validation",
        "run_key",
    ]
    return pd.DataFrame(records, columns=columns)


def missing_points(
    stats: pd.DataFrame, dimensions: Sequence[str], fixed: dict[str, Sequence[Any]] | None = None
) -> list[str]:
    """Per task, the grid (every value seen of each dimension, or the ``fixed`` values) minus the
    points that have a number."""
    fixed = fixed or {}
    missing = []
    for task, group in stats.groupby("task", sort=True):
        axes = [fixed.get(name) or sorted(group[name].unique()) for name in dimensions]
        present = set(group[list(dimensions)].itertuples(index=False, name=None))
        for combination in itertools.product(*axes):
            if combination not in present:
                where = dict(zip(dimensions, combination, strict=True))
                missing.append(describe({"task": task, **where}))
    return missing


def held_notes(chosen: dict[str, dict[str, Any]], prefix: str = "") -> list[str]:
    """``Readmission: τ held at 0.25`` for every knob ``prefer`` fixed, per task."""
    notes = []
    for knob, per_task in chosen.items():
        for task, value in sorted(per_task.items()):
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            notes.append(f"{task_title(task)}: {prefix}{DIMENSION_NAMES[knob]} held at {shown}")
    return notes
