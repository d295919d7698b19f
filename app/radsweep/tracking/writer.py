"""What a run sends to W&B: numbers only, never report text, pixels or patient identifiers.

Config (the resolved RunConfig, run key and cache keys); per-epoch validation AUC/AUPRC per seed
and their mean as history plus a line plot; final metrics with 95 % t-intervals as summary; for
distillation, a teacher / student / image-only table; and a versioned artifact holding the AUC
curves and the comparison as CSV.

W&B is a logger here, never the only record: the results store holds a run before W&B finishes
it. So an online run whose server cannot be reached falls back to offline mode (``wandb sync``
uploads it later), and ``run.finish()``, which hangs when the server dies mid-run, runs under a
timeout.
"""

import functools
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import pandas as pd
import wandb

from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.runs.outcome import RunOutcome
from radsweep.settings import Settings
from radsweep.stats import t_interval
from radsweep.sweeps.remote import OFFLINE_MODES
from radsweep.training import Curves, FitResult
from radsweep.watchdog import attempt

SWEEP_METRIC = "auc/final/mean"


INIT_TIMEOUT_SECONDS = 90.0
"""How long ``wandb.init`` waits for the server (W&B's default; ``WANDB_INIT_TIMEOUT`` sets it).
An online run whose server has not answered by then is logged offline instead."""
FINISH_TIMEOUT_SECONDS = 120.0
"""How long ``run.finish()`` may upload (W&B's ``finish_timeout``; ``RADSWEEP_WANDB_FINISH_TIMEOUT``
sets it). Without it finish hangs when the server dies mid-run, while the run's results are
stored and its log is on disk already."""
FINISH_GRACE_SECONDS = 5.0
"""A watchdog stops waiting for ``run.finish()`` this long after the finish timeout, should W&B
hang somewhere its own timeout does not reach."""


def _seconds(variable: str, default: float) -> float:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise SweepError(
            f"{variable}={text!r} is not a positive number of seconds",
            hint=f"unset it for the default, {default:g} s",
        )
    return value


def init_timeout() -> float:
    return _seconds("WANDB_INIT_TIMEOUT", INIT_TIMEOUT_SECONDS)


def finish_timeout() -> float:
    return _seconds("RADSWEEP_WANDB_FINISH_TIMEOUT", FINISH_TIMEOUT_SECONDS)


def check_timeouts() -> None:
    """Raise the error of a bad timeout setting once, before any run starts."""
    init_timeout()
    finish_timeout()


def _warn(line: str) -> None:
    """One line on stderr: workers are separate processes, with no console of the CLI's."""
    print(f"radsweep: warning: {line}", file=sys.stderr, flush=True)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(error).__name__


def run_name(config: RunConfig) -> str:
    parts = [config.task, config.backbone or config.text_encoder or "", config.method.value]
    return "-".join(part for part in parts if part) + f"-f{config.fraction:g}"


def wandb_config(outcome: RunOutcome) -> dict[str, Any]:
    return {
        **outcome.config.model_dump(mode="json"),
        "run_key": outcome.key,
        "cache_keys": list(outcome.cache_keys),
    }


def _history(curves: Curves, seeds: tuple[int, ...], prefix: str) -> list[dict[str, float]]:
    rows = []
    for epoch in range(curves.auc.shape[1]):
        row = {
            f"{prefix}auc/mean": float(curves.auc[:, epoch].mean()),
            f"{prefix}auprc/mean": float(curves.auprc[:, epoch].mean()),
            f"{prefix}loss/mean": float(curves.loss[:, epoch].mean()),
        }
        for index, seed in enumerate(seeds):
            row[f"{prefix}auc/seed_{seed}"] = float(curves.auc[index, epoch])
            row[f"{prefix}auprc/seed_{seed}"] = float(curves.auprc[index, epoch])
        rows.append(row)
    return rows


def summary(result: FitResult, baseline_auc: np.ndarray | None) -> dict[str, float]:
    """Final- and best-epoch metrics with t-intervals; teacher and baseline where they exist."""
    values: dict[str, float] = {}
    named = {
        "auc/final": result.model.final_auc,
        "auprc/final": result.model.final_auprc,
        "auc/best": result.model.best_auc,
        "auprc/best": result.model.best_auprc,
    }
    if result.teacher is not None:
        named["teacher/auc/best"] = result.teacher.best_auc
    if baseline_auc is not None:
        named["image_only/auc/final"] = baseline_auc
        named["gain/auc/final"] = result.model.final_auc - baseline_auc
    for name, per_seed in named.items():
        interval = t_interval(per_seed, 0.95)
        values[f"{name}/mean"] = interval.mean
        values[f"{name}/ci95_low"] = interval.low
        values[f"{name}/ci95_high"] = interval.high
    return values


def curves_frame(result: FitResult) -> pd.DataFrame:
    """Long table: stage, seed, epoch, auc, auprc, loss."""
    stages = {"model": result.model, "teacher": result.teacher}
    rows = [
        {
            "stage": stage,
            "seed": seed,
            "epoch": epoch + 1,
            "auc": float(curves.auc[index, epoch]),
            "auprc": float(curves.auprc[index, epoch]),
            "loss": float(curves.loss[index, epoch]),
        }
        for stage, curves in stages.items()
        if curves is not None
        for index, seed in enumerate(result.seeds)
        for epoch in range(curves.auc.shape[1])
    ]
    return pd.DataFrame(rows)


def comparison_frame(result: FitResult, baseline_auc: np.ndarray | None) -> pd.DataFrame | None:
    """Per seed: image-only, teacher (best epoch, the one distilled from) and student AUC."""
    if result.teacher is None and baseline_auc is None:
        return None
    frame = pd.DataFrame({"seed": result.seeds, "student_auc": result.model.final_auc})
    if result.teacher is not None:
        frame["teacher_auc"] = result.teacher.best_auc
    if baseline_auc is not None:
        frame["image_only_auc"] = baseline_auc
        frame["gain"] = frame["student_auc"] - frame["image_only_auc"]
    return frame


def log_outcome(run: Any, outcome: RunOutcome) -> None:
    """Log a trained outcome into an open W&B run (online or offline)."""
    result = outcome.result
    run.config.update(wandb_config(outcome), allow_val_change=True)
    if result is None:
        run.summary.update({"skipped": True, "run_key": outcome.key})
        return
    history = _history(result.model, result.seeds, "")
    if result.teacher is not None:
        for row, teacher_row in zip(
            history, _history(result.teacher, result.seeds, "teacher/"), strict=False
        ):
            row.update(teacher_row)
    for epoch, row in enumerate(history, start=1):
        run.log({"epoch": epoch, **row})
    epochs = list(range(1, result.model.auc.shape[1] + 1))
    run.log(
        {
            "auc_curves": wandb.plot.line_series(
                xs=epochs,
                ys=[list(map(float, seed_curve)) for seed_curve in result.model.auc],
                keys=[f"seed {seed}" for seed in result.seeds],
                title="Validation AUC per epoch",
                xname="epoch",
            )
        }
    )
    comparison = comparison_frame(result, outcome.baseline_auc)
    if comparison is not None:
        run.log({"comparison": wandb.Table(dataframe=comparison)})
    run.summary.update({**summary(result, outcome.baseline_auc), "seconds": outcome.seconds})
    _log_artifact(run, outcome, result, comparison)


def _log_artifact(
    run: Any, outcome: RunOutcome, result: FitResult, comparison: pd.DataFrame | None
) -> None:
    artifact = wandb.Artifact(
        f"curves-{outcome.key}", type="auc-curves", metadata={"run_key": outcome.key}
    )
    with tempfile.TemporaryDirectory() as folder:
        curves_path = Path(folder) / "curves.csv"
        curves_frame(result).to_csv(curves_path, index=False)
        artifact.add_file(str(curves_path))
        if comparison is not None:
            comparison_path = Path(folder) / "comparison.csv"
            comparison.to_csv(comparison_path, index=False)
            artifact.add_file(str(comparison_path))
        run.log_artifact(artifact)  # files are staged (copied) when added


def _init(mode: str | None, **arguments: Any) -> Any:
    """``wandb.init``; an online run W&B cannot start (no answer within the init timeout, no API
    key) is opened offline instead, with one line saying so and how to upload it later."""
    settings = wandb.Settings(
        silent=True,
        init_timeout=init_timeout(),
        finish_timeout=finish_timeout(),
        finish_timeout_raises=True,  # a timed-out finish is one warning line of ours
    )
    requested = (mode or os.environ.get("WANDB_MODE") or "online").strip().lower()
    try:
        return wandb.init(mode=mode, settings=settings, **arguments)  # type: ignore[arg-type]
    except (wandb.errors.CommError, wandb.errors.UsageError) as error:
        if requested in OFFLINE_MODES:
            raise  # already local: nothing to fall back to
        reason = _first_line(error)
    wandb.teardown()  # W&B's service still holds the failed run's id (an agent run keeps it)
    run = wandb.init(mode="offline", settings=settings, **arguments)
    server = os.environ.get("WANDB_BASE_URL", "the default W&B server")
    where = run.settings.sync_dir
    _warn(
        f"W&B ({server}) could not start run {run.name or run.id} online ({reason}); "
        f"it logs offline instead, upload it later: wandb sync {where}"
    )
    return run


@contextmanager
def open_run(
    config: RunConfig,
    mode: str,
    project: str,
    entity: str | None,
    group: str | None,
    settings: Settings,
    run_id: str | None = None,
) -> Iterator[Any]:
    """A W&B run for one configuration, finished (or marked failed) on the way out."""
    settings.wandb.mkdir(parents=True, exist_ok=True)
    run = _init(
        mode,
        id=run_id,
        project=project,
        entity=entity,
        group=group,
        job_type=config.method.value,
        name=run_name(config),
        config=config.model_dump(mode="json"),
        dir=str(settings.wandb),
        reinit="finish_previous",
    )
    yield from _finishing(run)


@contextmanager
def open_agent_run(settings: Settings) -> Iterator[Any]:
    """The run ``wandb.agent`` prepared: init takes the sweep's parameters from the agent."""
    settings.wandb.mkdir(parents=True, exist_ok=True)
    run = _init(None, dir=str(settings.wandb))
    yield from _finishing(run, preemptible=True)


def _finishing(run: Any, preemptible: bool = False) -> Iterator[Any]:
    try:
        with _preempting(run) if preemptible else nullcontext():
            yield run
    except BaseException:
        finish(run, exit_code=1)
        raise
    finish(run)


def finish(run: Any, exit_code: int | None = None) -> None:
    """``run.finish()`` under the finish timeout (W&B's, and a watchdog's should W&B hang past
    it). A hang or a failure costs one warning line, never the results (stored before) nor the
    local log (``wandb sync`` uploads what it holds)."""
    timeout = finish_timeout()
    done = attempt(
        functools.partial(run.finish, exit_code=exit_code),
        timeout + FINISH_GRACE_SECONDS,
        "wandb-finish",
    )
    if done.finished and done.error is None:
        return
    if done.error is None or isinstance(done.error, TimeoutError):
        problem = f"did not finish within {timeout:g} s"
    else:
        problem = f"failed to finish ({_first_line(done.error)})"
    where = run.settings.sync_dir
    _warn(
        f"W&B run {run.name or run.id} {problem}; its results are in the results store, "
        f"its log on disk: wandb sync {where} uploads it"
    )


@contextmanager
def _preempting(run: Any) -> Iterator[None]:
    """On SIGTERM (a preempted node, ``docker stop``) mark the agent's run preempting so the W&B
    sweep controller queues its configuration again, then exit with 143 as a terminated process.
    (Local sweeps handle SIGTERM in their workers: the job goes back to the queue.)"""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers live on the main thread only
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        run.mark_preempting()
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def sweep_parameters(run: Any) -> dict[str, Any]:
    """The RunConfig fields among the run's config (W&B adds its own keys)."""
    return {
        name: value for name, value in dict(run.config).items() if name in RunConfig.model_fields
    }
