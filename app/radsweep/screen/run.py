"""Run a screen: probe both modalities, train the control (reusing stored runs), judge.

The control's runs go through ``run_configuration`` (features extracted when missing, all seeds
in one pass, one results-store row per run) and are read with ``paired_findings``, the function
the report's findings come from: a screen and a report of the same runs cannot disagree.
"""

import resource
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from radsweep.errors import RadsweepError
from radsweep.results.findings import Finding, paired_findings
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import run_key
from radsweep.runs.execute import PreparedRun, RunHooks, prepare, run_configuration
from radsweep.screen.plan import (
    FULL_POOL,
    Fractions,
    ScreenOptions,
    Step,
    choose_fractions,
    features_config,
    plan,
)
from radsweep.screen.probe import modalities as probe_modalities
from radsweep.screen.verdict import Headroom, Judgement, Modalities, judge
from radsweep.settings import Settings
from radsweep.stats import t_interval
from radsweep.tasks.manifest import MANIFEST_FILE, Manifest
from radsweep.tasks.registry import find_task_directory
from radsweep.tasks.spec import TaskSpec
from radsweep.training.config import Method


@dataclass(frozen=True)
class StepRun:
    """A step that ran: its run key, whether the store held it already, and its wall time."""

    step: Step
    key: str
    reused: bool
    seconds: float


@dataclass(frozen=True)
class Size:
    """Median training and validation samples per seed at one fraction."""

    fraction: float
    train: int
    validation: int


@dataclass(frozen=True)
class Screen:
    """What a screen measured, its verdict, and the limits of what it can claim."""

    options: ScreenOptions
    task: TaskSpec
    task_directory: Path
    fractions: tuple[float, ...]
    modalities: Modalities
    runs: tuple[StepRun, ...]
    not_run: tuple[Step, ...]
    headroom: tuple[Headroom, ...]
    findings: tuple[Finding, ...]
    sizes: tuple[Size, ...]
    judgement: Judgement
    seconds: float
    cpu_seconds: float
    limits: tuple[str, ...] = ()
    cannot_run: tuple[str, ...] = ()  # one line per arm too small to run, with its numbers


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (extraction's loader workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stored_key(step: Step, prepared: PreparedRun, store: ResultsStore) -> str | None:
    """The step's run key when the store holds it, from the caches the probes opened (a step
    reads the same caches: the image one, and the text one when its method reads reports), so
    a stored step opens no encoder and no cache; None when it must run."""
    resolved = step.config.resolve(prepared.manifest.task)
    image, text = prepared.image, prepared.text
    assert image is not None and text is not None
    keys = [image.key, text.key] if resolved.text_encoder is not None else [image.key]
    key = run_key(resolved, keys)
    return key if store.has(key) else None


def _train(
    steps: list[Step],
    prepared: PreparedRun,
    settings: Settings,
    deadline: float,
    device: str | None,
    hooks: RunHooks,
) -> tuple[list[StepRun], list[Step]]:
    """Run the steps in order, reading stored ones back; once the deadline passes no further
    step starts."""
    store = ResultsStore(default_store_path(settings))
    done: list[StepRun] = []
    for index, step in enumerate(steps):
        started = time.perf_counter()
        key = stored_key(step, prepared, store)
        if key is not None:
            done.append(StepRun(step, key, True, time.perf_counter() - started))
            continue
        if started >= deadline:
            return done, steps[index:]
        outcome = run_configuration(step.config, settings, device=device, store=store, hooks=hooks)
        done.append(StepRun(step, outcome.key, outcome.skipped, time.perf_counter() - started))
    return done, []


def _per_seed(rows: pd.DataFrame, key: str, stage: str = "model") -> pd.Series:
    chosen = rows[(rows["run_key"] == key) & (rows["stage"] == stage)]
    return chosen.drop_duplicates("seed").set_index("seed")["final_auc"]


def _key(runs: list[StepRun], method: Method, fraction: float) -> str | None:
    for run in runs:
        config = run.step.config
        if config.method is method and config.fraction == fraction:
            return run.key
    return None


def _headroom(
    runs: list[StepRun], rows: pd.DataFrame, fractions: tuple[float, ...]
) -> list[Headroom]:
    """Teacher minus image-only per fraction, paired by seed (the teacher of the distill run)."""
    points = []
    for fraction in fractions:
        image, distill = _key(runs, Method.IMAGE, fraction), _key(runs, Method.DISTILL, fraction)
        if image is None or distill is None:
            continue
        paired = (_per_seed(rows, distill, "teacher") - _per_seed(rows, image)).dropna()
        points.append(Headroom(fraction, t_interval(paired.to_numpy())))
    return points


def _sizes(runs: list[StepRun], rows: pd.DataFrame) -> list[Size]:
    sizes = []
    for run in runs:
        if run.step.config.method is Method.IMAGE:
            model = rows[(rows["run_key"] == run.key) & (rows["stage"] == "model")]
            train, validation = model["n_train"].median(), model["n_validation"].median()
            sizes.append(Size(run.step.config.fraction, int(train), int(validation)))
    return sorted(sizes, key=lambda size: size.fraction)


def _limits(screen: Screen, chosen: Fractions) -> tuple[str, ...]:
    """What the screen's claims rest on, and what it cannot tell."""
    options, seeds = screen.options, len(screen.options.seeds)
    trained = "; ".join(f"{size.train} at fraction {size.fraction:g}" for size in screen.sizes)
    lines = [
        f"{seeds} seed{'s' if seeds != 1 else ''}, training samples per seed: "
        f"{screen.modalities.train} (probes, full pool)"
        + (f"; {trained}" if trained else "")
        + f"; {screen.modalities.validation} validation samples per seed; "
        "AUC is the final-epoch AUC on each seed's held-out test split (the teacher's epoch "
        "is chosen on the other half of its evaluation rows)",
        f"one image backbone ({options.backbone}) and one text encoder ({options.text_encoder}):"
        " the paper found the gain from distillation differs between backbones",
        "the modality probes are linear: an attention head may find more in either",
    ]
    distilled = [run.step.config for run in screen.runs if run.step.config.method.distils]
    if distilled:
        resolved = distilled[0].resolve(screen.task)
        lines.append(
            f"one τ ({resolved.tau:g}) and one λ ({resolved.lam:g}): the sweep varies them"
        )
    untried = [
        f"{size.fraction:g}"
        for size in screen.task.sizes
        if size.fraction not in screen.fractions and size.fraction < FULL_POOL
    ]
    if untried:
        lines.append(f"no paired gain measured at fractions {', '.join(untried)}")
    if chosen.skipped:
        listed = ", ".join(f"{size.fraction:g} ({size.images})" for size in chosen.skipped)
        lines.append(
            f"fractions {listed} of the task's table train on fewer than "
            f"{options.min_images} images or {options.min_per_class} per class per seed: "
            "not screened"
        )
    if seeds < 2:
        lines.append("one seed: no intervals, so no gain counts as significant")
    if screen.not_run:
        skipped = "; ".join(step.purpose for step in screen.not_run)
        lines.append(f"the {options.budget_minutes:g}-minute budget ran out before: {skipped}")
    return tuple(lines)


def _check_reports(manifest: Manifest) -> None:
    """A screen weighs learning with the report against learning without it: it needs reports."""
    if (manifest.frame["report"].str.strip() == "").all():
        raise RadsweepError(
            f"task {manifest.task.name} has no report text: there is nothing to screen",
            hint=f"fill the report column of {manifest.directory / MANIFEST_FILE}",
        )


def run_screen(
    options: ScreenOptions,
    settings: Settings,
    *,
    device: str | None = None,
    hooks: RunHooks | None = None,
) -> Screen:
    """Probe the modalities, train (or reuse) the control's runs and judge the task from them."""
    started, cpu = time.perf_counter(), cpu_seconds()
    hooks = hooks or RunHooks()
    directory = find_task_directory(options.task, settings.data)
    manifest = Manifest.load(directory, check_images=False)
    _check_reports(manifest)
    task = manifest.task
    chosen = choose_fractions(options, manifest)
    fractions = chosen.chosen
    located = options.model_copy(update={"task": str(directory)})
    prepared = prepare(features_config(located), settings, device, hooks)
    measured = probe_modalities(prepared)
    budget = options.budget_minutes
    deadline = started + budget * 60 if budget is not None else np.inf
    steps = plan(located, fractions)
    runs, not_run = _train(steps, prepared, settings, deadline, device, hooks)
    rows = ResultsStore(default_store_path(settings)).seed_metrics()
    rows = rows[rows["run_key"].isin({run.key for run in runs})]
    headroom = _headroom(runs, rows, fractions)
    findings = paired_findings(rows)
    screen = Screen(
        options=options.model_copy(update={"task": task.name}),
        task=task,
        task_directory=directory,
        fractions=fractions,
        modalities=measured,
        runs=tuple(runs),
        not_run=tuple(not_run),
        headroom=tuple(headroom),
        findings=tuple(findings),
        sizes=tuple(_sizes(runs, rows)),
        judgement=judge(measured, headroom, findings, kind=task.kind, not_run=chosen.cannot_run),
        seconds=time.perf_counter() - started,
        cpu_seconds=cpu_seconds() - cpu,
        cannot_run=chosen.cannot_run,
    )
    return replace(screen, limits=_limits(screen, chosen))
