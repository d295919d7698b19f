"""Run sets from specs and filters, and the reports drawn from them.

A report draws one explicit run set (see ``results.runset``): a spec's grid, resolved against the
tasks built here, or explicit filters. Without either, each shipped spec that has stored runs is
its own set, and runs that belong to no spec are counted and left for a filtered report.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from radsweep.errors import RadsweepError
from radsweep.reports.build import Report, make_report
from radsweep.results.frames import ResultFrames
from radsweep.results.runset import RunSet, Selection, select
from radsweep.runs.config import RunConfig
from radsweep.sweeps.packaged import packaged_specs
from radsweep.sweeps.spec import load_and_expand, task_specs
from radsweep.tasks.identity import task_digest
from radsweep.tasks.registry import discover, find_task_directory


def local_digests(tasks: Iterable[str], data_dir: Path) -> dict[str, str]:
    """The digest of each named task's data on this machine (tasks not built here: none)."""
    digests = {}
    for task in sorted(set(tasks)):
        try:
            digests[task] = task_digest(find_task_directory(task, data_dir))
        except (RadsweepError, OSError):
            continue
    return digests


def _with_baselines(configs: Sequence[RunConfig], data_dir: Path) -> list[RunConfig]:
    """A spec's configurations plus the image-only baseline each distillation run records."""
    tasks = task_specs(data_dir)
    baselines = [c.image_only_baseline(tasks[c.task]) for c in configs if c.method.distils]
    unique = {config.canonical(): config for config in [*configs, *baselines]}
    return list(unique.values())


DRAW = ".draw"
"""The name suffix of another draw of a task's benchmark (``synth-prognostic.draw1``): the demo
repeats a comparison on such draws, and its findings pool them with the task."""


def _on_other_draws(configs: Sequence[RunConfig], data_dir: Path) -> list[RunConfig]:
    """The spec's configurations of each task again on every other draw of it built here."""
    built = [entry.spec.name for entry in discover(data_dir)]
    return [
        config.model_copy(update={"task": name})
        for config in configs
        for name in built
        if name.startswith(f"{config.task}{DRAW}")
    ]


def spec_run_set(spec: str | Path, data_dir: Path) -> RunSet:
    """A spec's grid as a run set, on the data its tasks have here (other draws included)."""
    loaded, configs = load_and_expand(spec, data_dir)
    every = _with_baselines([*configs, *_on_other_draws(configs, data_dir)], data_dir)
    return RunSet(
        loaded.name,
        tuple(json.loads(config.canonical()) for config in every),  # as the store keeps it
        local_digests((config.task for config in every), data_dir),
    )


def filter_run_set(filters: Mapping[str, str], data_dir: Path) -> RunSet:
    """Every stored run whose config fields equal ``filters`` (one dataset per task)."""
    if unknown := sorted(set(filters) - set(RunConfig.model_fields)):
        raise RadsweepError(
            f"unknown run setting {unknown[0]!r} in --where",
            hint=f"filter on RunConfig fields: {', '.join(RunConfig.model_fields)}",
        )
    name = ", ".join(f"{key}={value}" for key, value in sorted(filters.items())) or "every run"
    task = filters.get("task")
    return RunSet(name, (), local_digests([task] if task else [], data_dir), dict(filters))


@dataclass(frozen=True)
class RunSetReport:
    """One run set's report (``report`` is None when the set drew no stored run)."""

    selection: Selection
    report: Report | None


def default_run_sets(frames: ResultFrames, data_dir: Path) -> tuple[list[Selection], int]:
    """Each shipped spec with stored runs, as its own set; and how many runs no spec claims."""
    selections, claimed = [], set()
    for name in packaged_specs():
        selection = select(frames, spec_run_set(name, data_dir))
        if selection.keys:
            selections.append(selection)
            claimed.update(selection.keys)
    return selections, len(set(frames.runs["run_key"]) - claimed)


def report_run_sets(
    frames: ResultFrames,
    run_sets: Sequence[RunSet],
    out_dir: Path,
    data_dir: Path,
    curves: Sequence[str] = (),
) -> tuple[list[RunSetReport], int]:
    """Draw one report per run set (``out_dir`` for one set, ``out_dir/NAME`` for several);
    without sets, the shipped specs that have stored runs (or, when none has, every run).
    Returns the reports and the number
    of stored runs that no drawn set claims."""
    if run_sets:
        selections = [select(frames, run_set) for run_set in run_sets]
        claimed = {key for selection in selections for key in selection.keys}
        unclaimed = len(set(frames.runs["run_key"]) - claimed)
    else:
        selections, unclaimed = default_run_sets(frames, data_dir)
    if not selections:  # no spec claims a run: every run, one dataset and setting per point
        selections = [select(frames, filter_run_set({}, data_dir))]
        unclaimed = 0
    reports = []
    for selection in selections:
        target = out_dir if len(selections) == 1 else out_dir / _folder(selection.run_set.name)
        drawn = make_report(selection, target, curves) if selection.keys else None
        reports.append(RunSetReport(selection, drawn))
    return reports, unclaimed


def _folder(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "run-set"
