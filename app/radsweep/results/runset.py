"""A report's run set: exactly which stored runs it draws, and which it leaves out and why.

A store fills with runs of unrelated intent: a spec's grid, a two-epoch smoke test, another
benchmark whose tasks carry the same names. Drawing "the latest run per grid point" across them
mixes them silently. A run set names its runs instead: a spec's configurations (each compared in
full, every hyperparameter included) or explicit filters, on one dataset per task (its digest).
Runs that sit on a grid point of the set but differ in a hyperparameter or in their data are
listed with the reason, never drawn.
"""

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from radsweep.results.frames import ResultFrames

GRID_FIELDS = ("task", "backbone", "method", "head", "fraction", "tau", "lam", "text_encoder")
"""What places a run on a spec's grid; every other config field must equal the spec's."""
FIXED_FIELDS = (
    "epochs",
    "teacher_epochs",
    "lr",
    "batch_size",
    "head",
    "max_length",
    "tau",
    "lam",
    "text_encoder",
    "seeds",
    "scoring",
    "weights",
    "text_weights",
    "views",
    "pool",
    "tiny",
)
"""Hyperparameters a report states as held fixed (with each value found, if several)."""
UNRECORDED = "not recorded"


@dataclass(frozen=True)
class RunSet:
    """Which runs a report draws.

    ``configs``: a spec's resolved configurations as JSON dicts (empty: no spec, filters only).
    ``digests``: the task data each task name stands for here (task → digest); tasks without an
    entry take the data of their latest run. ``filters``: config field → value, all must hold.
    """

    name: str
    configs: tuple[Mapping[str, Any], ...] = ()
    digests: Mapping[str, str] = field(default_factory=dict)
    filters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Excluded:
    """A stored run that the set's grid names but the report does not draw, and why."""

    run_key: str
    task: str
    method: str
    reason: str


@dataclass(frozen=True)
class Selection:
    """A run set applied to result tables: the rows drawn, those left out, what was fixed."""

    run_set: RunSet
    frames: ResultFrames
    excluded: list[Excluded]
    fixed: dict[str, str]
    digests: dict[str, str]

    @property
    def keys(self) -> list[str]:
        return list(self.frames.runs["run_key"])


def _parsed(text: object) -> dict[str, Any]:
    return json.loads(text) if isinstance(text, str) and text else {}


def _grid_point(config: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(config.get(name) for name in GRID_FIELDS)


def _differences(config: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    names = sorted(set(config) | set(wanted))
    changed = [name for name in names if config.get(name, UNRECORDED) != wanted.get(name)]
    return ", ".join(
        f"{name} {config.get(name, UNRECORDED)} (the set: {wanted.get(name)})" for name in changed
    )


def _matches_filters(config: Mapping[str, Any], filters: Mapping[str, str]) -> bool:
    return all(str(config.get(name)) == value for name, value in filters.items())


@dataclass(frozen=True)
class _Stored:
    """One stored run as the selection reads it: key, config and the data it trained on."""

    key: str
    config: dict[str, Any]
    digest: str


def _stored(runs: pd.DataFrame) -> list[_Stored]:
    """The runs in store order (oldest first); meta may be absent (tables from elsewhere)."""
    metas = runs["meta"] if "meta" in runs else [None] * len(runs)
    return [
        _Stored(str(key), _parsed(config), _parsed(meta).get("task_digest") or UNRECORDED)
        for key, config, meta in zip(runs["run_key"], runs["config"], metas, strict=True)
    ]


def _dataset_of(runs: Sequence[_Stored], digests: Mapping[str, str]) -> dict[str, str]:
    """The digest each task stands for: the set's, else that of the task's latest run."""
    latest = {str(run.config.get("task")): run.digest for run in runs}  # oldest first: last wins
    return {**latest, **digests}


def select(frames: ResultFrames, run_set: RunSet) -> Selection:
    """The rows of ``frames`` that ``run_set`` draws, and the near misses it lists."""
    runs = [run for run in _stored(frames.runs) if _matches_filters(run.config, run_set.filters)]
    wanted = {json.dumps(dict(c), sort_keys=True): c for c in run_set.configs}
    by_point = {_grid_point(config): config for config in run_set.configs}
    if run_set.configs:
        tasks = {config["task"] for config in run_set.configs}
        runs = [run for run in runs if run.config.get("task") in tasks]
    datasets = _dataset_of(runs, run_set.digests)
    if not wanted:  # filters only: the settings most of the set's runs share stand in for a spec
        by_point = _prevailing(run.config for run in runs)
    keep, excluded = [], []
    for run in runs:
        reason = _left_out(run.config, run.digest, datasets, wanted, by_point)
        if reason is None:
            keep.append(run.key)
        elif reason:
            task, method = str(run.config.get("task")), str(run.config.get("method"))
            excluded.append(Excluded(run.key, task, method, reason))
    chosen = frames_of(frames, keep, f"{frames.source}, run set {run_set.name}")
    return Selection(run_set, chosen, excluded, held_fixed(chosen.runs), datasets)


def _left_out(
    config: Mapping[str, Any],
    digest: str,
    datasets: Mapping[str, str],
    wanted: Mapping[str, Mapping[str, Any]],
    by_point: Mapping[tuple[Any, ...], Mapping[str, Any]],
) -> str | None:
    """None: drawn; "": not part of the set at all; else why a run of the set is left out."""
    near = by_point.get(_grid_point(config))
    if wanted and json.dumps(dict(config), sort_keys=True) not in wanted:
        return "" if near is None else f"differs from the set in {_differences(config, near)}"
    if not wanted and near is not None and _settings(config) != _settings(near):
        return f"differs from the set's other runs in {_differences(config, near)}"
    task = str(config.get("task"))
    if digest != datasets.get(task):
        return (
            f"trained on other data named {task} (data {digest}; the set's: {datasets.get(task)})"
        )
    return None


def _settings(config: Mapping[str, Any]) -> str:
    """Everything but the grid point and the seeds, as comparable text."""
    rest = {k: v for k, v in config.items() if k not in (*GRID_FIELDS, "seeds")}
    return json.dumps(rest, sort_keys=True)


def _prevailing(configs: Iterable[Mapping[str, Any]]) -> dict[tuple[Any, ...], Mapping[str, Any]]:
    """Per grid point, a config with the settings most runs of the set share (ties: the latest),
    so a smoke test beside a sweep is listed instead of drawn."""
    configs = list(configs)
    counts = Counter(_settings(config) for config in configs)
    chosen: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for config in configs:
        point = _grid_point(config)
        held = chosen.get(point)
        if held is None or counts[_settings(config)] >= counts[_settings(held)]:
            chosen[point] = config
    return chosen


def frames_of(frames: ResultFrames, keys: Sequence[str], source: str) -> ResultFrames:
    """``frames`` restricted to the runs ``keys``: every table, so figures agree row for row."""
    wanted = set(keys)
    return ResultFrames(
        runs=frames.runs[frames.runs["run_key"].isin(wanted)],
        seed_metrics=frames.seed_metrics[frames.seed_metrics["run_key"].isin(wanted)],
        curves=frames.curves[frames.curves["run_key"].isin(wanted)],
        source=source,
    )


def held_fixed(runs: pd.DataFrame) -> dict[str, str]:
    """Each hyperparameter's values among ``runs`` (those a method does not read are left out)."""
    configs = [_parsed(text) for text in runs["config"]]
    fixed = {}
    for name in FIXED_FIELDS:
        values = sorted({json.dumps(c[name]) for c in configs if c.get(name) is not None})
        if values:
            fixed[name] = ", ".join(value.strip('"') for value in values)
    return fixed
