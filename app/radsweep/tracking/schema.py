"""The one W&B schema: every config field, history key, summary key, table and artifact name.

The writer builds what it logs with these functions and the reader parses W&B runs back with
their inverses, so the two cannot drift apart. History rows are built per epoch as training
finishes it (``epoch_row``), and from the store's rows for a configuration it already held
(``history_rows``, the same rows); the summary from the store's per-seed metrics. A trained run
and a cached run log the same keys.

Config: the spec's parameters (W&B locks them for sweep runs), the resolved configuration under
``resolved/`` (what actually trained: null where a method ignores a setting), ``run_key`` and
``cache_keys``. History: one row per stage and ``epoch`` (the step metric of every per-epoch
key) holding ``auc|auprc|loss/seed_<s>`` and their ``/mean`` (under ``teacher/`` for a
distillation's teacher, whose epochs come first), the model's rows also the sweep metric.
Summary: final and best metrics with 95 % t-intervals; sizes, best epochs and selection AUCs per
seed.

A distillation run also carries the image-only baseline it trained and stored under its own key
(the ablation grids hold no image-only point of their own): its configuration under
``image_only`` in the config, its per-epoch rows and sizes under ``image_only/`` in the history
and summary, so a report read from W&B holds the baseline as the store does.
"""

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from radsweep.results.rows import CURVE_COLUMNS
from radsweep.runs.config import DEFAULT_SEEDS, RunConfig
from radsweep.stats import t_interval
from radsweep.tasks.spec import Scoring

SWEEP_METRIC = "auc/final/mean"
"""The metric every spec optimises; logged per epoch (for hyperband) and in the summary."""
STEP = "epoch"
RESOLVED = "resolved"
RUN_KEY = "run_key"
TASK_DIGEST = "task_digest"  # the task data a run trained on: two benchmarks never mix
CACHE_KEYS = "cache_keys"
FEATURE_CACHES = "feature_caches"
SIZES = ("n_train", "n_validation")
METRICS = ("auc", "auprc", "loss")
TEACHER = "teacher"
CACHED_TAG = "cached"
CACHED_TEACHER_TAG = "cached-teacher"
"""A distillation whose teacher another run trained: its teacher rows replay the stored ones."""
COMPARISON_TABLE = "comparison"
CURVES_PLOT = "auc_curves"
BASELINE = "image_only"
"""Config key and history/summary prefix of a distillation run's image-only baseline."""
PER_EPOCH = ("auc/*", "auprc/*", "loss/*", "teacher/*", f"{BASELINE}/*")
"""Globs of the history keys plotted against ``epoch``."""
CURVES_ARTIFACT_TYPE = "auc-curves"
FEATURES_ARTIFACT_TYPE = "feature-cache"
HEADS_ARTIFACT_TYPE = "model"
SEED_KEY = re.compile(r"^(?:(teacher)/)?(auc|auprc|loss)/seed_(\d+)$")
"""A per-seed history key: ``[teacher/]<metric>/seed_<s>``."""
SIZE_KEY = re.compile(r"^(n_train|n_validation)/seed_(\d+)$")
STAGE_VALUES = ("best_epoch", "selection_auc")
STAGE_VALUE_KEY = re.compile(rf"^(?:({TEACHER})/)?({'|'.join(STAGE_VALUES)})/seed_(\d+)$")
"""Per-seed summary values of a stage that its history cannot give back: the best epoch (from 1)
its ``best`` metrics are read at (under held-out scoring chosen on the selection rows, which W&B
history does not hold) and its final AUC on those selection rows."""
STUDENT_STAGES = {"student": "model"}
"""The engine's name of a stage -> the store's (a distilled student is the run's model)."""
STOPPED_TAG = "stopped"
_ARTIFACT_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_ARTIFACT_NAME_ROOM = 100  # W&B allows 128 characters: room for a prefix and the digest


def _prefix(stage: str) -> str:
    return "" if stage == "model" else f"{TEACHER}/"


def run_name(config: RunConfig, task_digest: str | None = None) -> str:
    """Distinct for every distinct configuration of any spec, deterministic and at most
    ``RUN_NAME_LENGTH`` characters: every setting a spec may sweep is in it when it differs from
    the default (a resolved run always has epochs and learning rate), and a few characters of
    the task's data digest keep two benchmarks that share a task name apart."""
    parts = [config.task, config.backbone or config.text_encoder or "", config.method.value]
    if config.method.needs_image:
        parts.append(str(config.head))
    if config.method.needs_text and config.backbone is not None:
        parts.append(str(config.text_encoder))
    if config.tau is not None:
        parts.append(f"tau{config.tau:g}")
    if config.lam is not None:
        parts.append(f"lam{config.lam:g}")
    parts += [f"f{config.fraction:g}", *_training_parts(config), *_input_parts(config)]
    if task_digest:
        parts.append(f"d{task_digest[:DIGEST_IN_NAME]}")
    return _bounded("-".join(part for part in parts if part))


RUN_NAME_LENGTH = 128  # W&B shows longer names cut; a name must stay whole to be told apart
DIGEST_IN_NAME = 6


def _training_parts(config: RunConfig) -> list[str]:
    """Epochs, learning rate, seeds, batch size and scoring, where they are not the default."""
    parts = [f"e{config.epochs}" if config.epochs else "", f"lr{config.lr:g}" if config.lr else ""]
    if config.seeds != DEFAULT_SEEDS:
        parts.append(f"s{_seeds(config.seeds)}")
    if config.batch_size not in (None, config.default_batch_size()):
        parts.append(f"bs{config.batch_size}")
    if config.scoring is not Scoring.HELD_OUT:
        parts.append(config.scoring.value)
    return parts


def _input_parts(config: RunConfig) -> list[str]:
    """Views, pooling, text length, weights and variants the features were made with."""
    parts = [f"v{config.views}" if config.views else ""]
    parts.append(f"vs{config.view_seed}" if config.view_seed else "")
    parts.append(f"p{config.pool}" if config.pool != 1 else "")
    parts.append(f"len{config.max_length}" if config.max_length else "")
    parts.append(str(config.variant or ""))
    for label, source in (("w", config.weights), ("tw", config.text_weights)):
        parts.append(f"{label}{_short_digest(source)}" if source else "")
    parts.append("tiny" if config.tiny else "")
    return parts


def _seeds(seeds: tuple[int, ...]) -> str:
    """``0..9`` for a run of consecutive seeds, the list when short, else count and digest."""
    if len(seeds) > 2 and seeds == tuple(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}..{seeds[-1]}"
    listed = ",".join(map(str, seeds))
    return listed if len(listed) <= 16 else f"{len(seeds)}x{_short_digest(listed)}"


def _short_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_IN_NAME]


def _bounded(name: str) -> str:
    """``name``, or its head and a digest of the whole when it is longer than allowed."""
    if len(name) <= RUN_NAME_LENGTH:
        return name
    return f"{name[: RUN_NAME_LENGTH - 9]}~{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def tags(config: RunConfig) -> list[str]:
    return [config.task, config.backbone or "text-only", config.method.value]


def group(spec: str | None, sweep_id: str | None) -> str | None:
    """The spec's name, with the sweep id when the runs come from a W&B sweep."""
    parts = [part for part in (spec, sweep_id) if part]
    return "/".join(parts) or None


def config_values(
    resolved: RunConfig, key: str, cache_keys: tuple[str, ...], digests: dict[str, str]
) -> dict[str, Any]:
    """What the run adds to its config beside the spec's parameters."""
    return {
        RESOLVED: resolved.model_dump(mode="json"),
        RUN_KEY: key,
        CACHE_KEYS: list(cache_keys),
        FEATURE_CACHES: digests,
    }


def baseline_config(resolved: RunConfig, key: str, cache_keys: tuple[str, ...]) -> dict[str, Any]:
    """The ``BASELINE`` config entry of a distillation run: what its image-only run is."""
    return {RESOLVED: resolved.model_dump(mode="json"), RUN_KEY: key, CACHE_KEYS: list(cache_keys)}


def baseline_rows(curves: pd.DataFrame) -> list[dict[str, float]]:
    """The baseline's history rows: its own rows under ``image_only/`` (no sweep metric: the
    run's model is what the sweep optimises), stepped by the same ``epoch``."""
    rows = []
    for row in history_rows(curves):
        row.pop(SWEEP_METRIC, None)
        rows.append({f"{BASELINE}/{name}" if name != STEP else name: v for name, v in row.items()})
    return rows


def baseline_per_seed(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The baseline's sizes and stage values per seed under ``image_only/`` in the summary."""
    return {
        f"{BASELINE}/{name}": value
        for name, value in summary.items()
        if SIZE_KEY.match(name) or STAGE_VALUE_KEY.match(name)
    }


def baseline_part(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries under ``image_only/`` (history columns or summary keys), prefix removed."""
    prefix = f"{BASELINE}/"
    return {name[len(prefix) :]: value for name, value in values.items() if name.startswith(prefix)}


def config_from_wandb(config: dict[str, Any]) -> RunConfig | None:
    """The resolved RunConfig a run logged, or None for a run radsweep did not write."""
    resolved = config.get(RESOLVED)
    if not isinstance(resolved, dict) or "task" not in resolved or not config.get(RUN_KEY):
        return None
    return RunConfig.from_stored(resolved)


def epoch_row(
    stage: str, epoch: int, seeds: Sequence[int], metrics: Mapping[str, Sequence[float]]
) -> dict[str, float]:
    """One history row: one stage's ``METRICS`` per seed (and their mean) after ``epoch``.

    Logged live as each epoch finishes, and replayed from the store for a cached run: the same
    row either way. The student of a distillation is the ``model`` stage, as in the store.
    """
    stage = STUDENT_STAGES.get(stage, stage)
    prefix = _prefix(stage)
    row: dict[str, float] = {STEP: int(epoch)}
    for metric in METRICS:
        values = pd.Series(metrics[metric], dtype=float)
        row[f"{prefix}{metric}/mean"] = float(values.mean())  # NaN-skipping, as the store's
        for seed, value in zip(seeds, values, strict=True):
            row[f"{prefix}{metric}/seed_{int(seed)}"] = float(value)
    if stage == "model":
        row[SWEEP_METRIC] = row["auc/mean"]  # final AUC, were training to stop here
    return row


def history_rows(curves: pd.DataFrame) -> list[dict[str, float]]:
    """The history rows of one run from the store's curve rows (CURVE_COLUMNS), in the order
    training logs them live: every teacher epoch, then every model epoch."""
    rows = []
    for stage in (TEACHER, "model"):
        by_stage = curves[curves["stage"] == stage]
        for epoch in sorted(by_stage["epoch"].unique()):
            at = by_stage[by_stage["epoch"] == epoch].sort_values("seed")
            metrics = {metric: at[metric].to_list() for metric in METRICS}
            rows.append(epoch_row(stage, int(epoch), at["seed"].to_list(), metrics))
    return rows


def curves_from_history(history: pd.DataFrame, key: str) -> pd.DataFrame:
    """The store's curve rows of one run back from its W&B history (a stage's rows are those
    holding its loss: the loss is logged every epoch, the AUC only when validated)."""
    empty = pd.DataFrame(columns=["run_key", *CURVE_COLUMNS])
    if STEP not in history.columns:
        return empty
    history = history.dropna(subset=[STEP])
    parts: dict[tuple[str, int], dict[str, str]] = {}
    for column in history.columns:
        match = SEED_KEY.match(str(column))
        if match:
            stage, metric, seed = match.group(1) or "model", match.group(2), int(match.group(3))
            parts.setdefault((stage, seed), {})[metric] = str(column)
    frames = []
    for (stage, seed), columns in sorted(parts.items()):
        rows = history.dropna(subset=[columns["loss"]]) if "loss" in columns else history
        frames.append(
            pd.DataFrame(
                {
                    "run_key": key,
                    "stage": stage,
                    "seed": seed,
                    "epoch": rows[STEP].astype(int).to_numpy(),
                    **{
                        metric: rows[columns[metric]].to_numpy(float)
                        if metric in columns
                        else np.nan
                        for metric in METRICS
                    },
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else empty


def summary_values(seeds: pd.DataFrame, baseline_auc: np.ndarray | None) -> dict[str, float]:
    """Final- and best-epoch metrics with t-intervals, sizes and best epochs per seed, teacher
    and baseline."""
    model = seeds[seeds["stage"] == "model"].sort_values("seed")
    teacher = seeds[seeds["stage"] == TEACHER].sort_values("seed")
    named = {
        "auc/final": model["final_auc"].to_numpy(float),
        "auprc/final": model["final_auprc"].to_numpy(float),
        "auc/best": model["best_auc"].to_numpy(float),
        "auprc/best": model["best_auprc"].to_numpy(float),
    }
    if not teacher.empty:
        named[f"{TEACHER}/auc/best"] = teacher["best_auc"].to_numpy(float)
    if baseline_auc is not None:
        named["image_only/auc/final"] = baseline_auc
        named["gain/auc/final"] = named["auc/final"] - baseline_auc
    values: dict[str, float] = {}
    for name, per_seed in named.items():
        interval = t_interval(per_seed, 0.95)
        values[f"{name}/mean"] = interval.mean
        values[f"{name}/ci95_low"] = interval.low
        values[f"{name}/ci95_high"] = interval.high
    row: Any  # itertuples names its fields at run time
    for row in model.itertuples():
        for size in SIZES:
            values[f"{size}/seed_{int(row.seed)}"] = int(getattr(row, size))
    for stage, rows in (("model", model), (TEACHER, teacher)):
        for row in rows.itertuples():
            for name in STAGE_VALUES:
                value = getattr(row, name)
                if pd.notna(value):
                    values[f"{_prefix(stage)}{name}/seed_{int(row.seed)}"] = _number(name, value)
    return values


def _number(name: str, value: Any) -> float:
    """A stage value as the summary keeps it: the epoch a whole number, the AUC a float."""
    return int(value) if name == "best_epoch" else float(value)


def sizes_from_summary(summary: dict[str, Any], key: str) -> pd.DataFrame:
    rows: dict[int, dict[str, Any]] = {}
    for name, value in summary.items():
        match = SIZE_KEY.match(str(name))
        if match:
            rows.setdefault(int(match.group(2)), {"run_key": key})[match.group(1)] = value
    return pd.DataFrame(
        [{"seed": seed, **row} for seed, row in rows.items()],
        columns=["run_key", "seed", *SIZES],
    )


def stage_values_from_summary(summary: Mapping[str, Any], key: str) -> pd.DataFrame:
    """``STAGE_VALUES`` per (stage, seed) as the summary holds them (``run_key``, ``stage``,
    ``seed`` and one column each); empty for runs logged before it did (their best epoch is
    then read off the curves, the highest AUC, and their selection AUC is missing)."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for name, value in summary.items():
        match = STAGE_VALUE_KEY.match(str(name))
        if match and value is not None:
            stage, seed = match.group(1) or "model", int(match.group(3))
            rows.setdefault((stage, seed), {})[match.group(2)] = value
    return pd.DataFrame(
        [
            {"run_key": key, "stage": stage, "seed": seed, **row}
            for (stage, seed), row in rows.items()
        ],
        columns=["run_key", "stage", "seed", *STAGE_VALUES],
    )


def comparison_frame(seeds: pd.DataFrame, baseline_auc: np.ndarray | None) -> pd.DataFrame | None:
    """Per seed: student, teacher (best epoch, the one distilled from) and image-only AUC."""
    model = seeds[seeds["stage"] == "model"].sort_values("seed")
    teacher = seeds[seeds["stage"] == TEACHER].sort_values("seed")
    if teacher.empty and baseline_auc is None:
        return None
    frame = pd.DataFrame(
        {"seed": model["seed"].to_numpy(int), "student_auc": model["final_auc"].to_numpy(float)}
    )
    if not teacher.empty:
        frame["teacher_auc"] = teacher["best_auc"].to_numpy(float)
    if baseline_auc is not None:
        frame["image_only_auc"] = baseline_auc
        frame["gain"] = frame["student_auc"] - frame["image_only_auc"]
    return frame


def curves_artifact_name(spec: str | None) -> str:
    """One collection per spec (each run's curves are a version aliased by its run key)."""
    return f"curves-{artifact_safe(spec or 'runs')}"


def heads_artifact_name(spec: str | None) -> str:
    """The trained heads of a spec's runs: one model collection, each run's version aliased by
    its run key (all seeds stacked on the leading axis of every tensor)."""
    return f"heads-{artifact_safe(spec or 'runs')}"


def artifact_safe(name: str) -> str:
    """``name`` as W&B artifact names allow (ASCII letters, digits, ``-``, ``_``, ``.``): a spec
    file may be called ``my sweep.yaml`` or ``Röntgen.yaml``. Other characters become ``_``,
    and a digest of the original keeps two names that clean to the same text apart."""
    cleaned = _ARTIFACT_UNSAFE.sub("_", name)[:_ARTIFACT_NAME_ROOM]
    if cleaned == name:
        return name
    return f"{cleaned}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def features_artifact_name(cache_key: str) -> str:
    return f"features-{cache_key}"
