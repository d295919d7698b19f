"""What a run sends to W&B: numbers only, never report text, pixels or patient identifiers.

A run is logged from its rows in the results store (``StoredRun``), so a configuration trained
now and one the store already held (tagged ``cached``) log the same curves, summary, comparison
table and artifacts: a sweep never holds an empty run. Keys and names come from ``schema``.
"""

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import wandb

from radsweep.features.layout import MARKER_FILE, CacheDir
from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig
from radsweep.runs.heads import CARD_FILE, HEADS_FILE, read_card
from radsweep.tracking import schema


@dataclass(frozen=True)
class StoredRun:
    """One run key's rows in the store, and the image-only run it is compared with (logged
    inside it: a distillation-only grid has no image-only run of its own)."""

    key: str
    config: RunConfig
    cache_keys: tuple[str, ...]
    curves: pd.DataFrame
    seeds: pd.DataFrame
    seconds: float | None
    task_digest: str | None = None  # which data the task name stood for
    baseline: "StoredRun | None" = None

    @property
    def baseline_auc(self) -> np.ndarray | None:
        """The baseline's final AUC per seed, in seed order."""
        if self.baseline is None:
            return None
        rows = self.baseline.seeds
        return rows[rows["stage"] == "model"].sort_values("seed")["final_auc"].to_numpy(float)


def stored_run(store: ResultsStore, key: str, baseline_key: str | None) -> StoredRun:
    """Read what the store holds of ``key`` (and of its image-only baseline for distillation)."""
    run = cast(pd.Series, store.runs().set_index("run_key").loc[key])  # keys are unique
    meta = json.loads(run["meta"])
    return StoredRun(
        key=key,
        config=RunConfig.from_stored(run["config"]),
        cache_keys=tuple(json.loads(run["cache_keys"])),
        curves=store.curves(key),
        seeds=store.seed_metrics(key),
        seconds=meta.get("seconds"),
        task_digest=meta.get("task_digest"),
        baseline=None if baseline_key is None else stored_run(store, baseline_key, None),
    )


def cache_digests(cache_dir: Path, cache_keys: tuple[str, ...]) -> dict[str, str]:
    """Each feature cache's completeness marker (the sha256 of its metadata): its digest."""
    digests = {}
    for key in cache_keys:
        marker = CacheDir(cache_dir, key).path / MARKER_FILE
        digests[key] = marker.read_text(encoding="utf-8").strip() if marker.is_file() else ""
    return digests


def define_metrics(run: Any) -> None:
    """Plot every per-epoch key against ``epoch`` (before the first epoch is logged)."""
    run.define_metric(schema.STEP)
    for pattern in schema.PER_EPOCH:
        run.define_metric(pattern, step_metric=schema.STEP)


def log_stored(
    run: Any,
    stored: StoredRun,
    *,
    cached: bool,
    spec: str | None,
    cache_dir: Path,
    history: bool = True,
) -> None:
    """Log one stored run into an open W&B run (online or offline); ``history``: its per-epoch
    rows too (False when they were logged live as training finished each epoch)."""
    digests = cache_digests(cache_dir, stored.cache_keys)
    values = schema.config_values(stored.config, stored.key, stored.cache_keys, digests)
    values[schema.TASK_DIGEST] = stored.task_digest
    run.config.update(values, allow_val_change=True)
    if cached:
        run.tags = (*run.tags, schema.CACHED_TAG)
    if history:
        for row in schema.history_rows(stored.curves):
            run.log(row)
    if stored.baseline is not None:
        _log_baseline(run, stored.baseline)
    _log_plot_and_table(run, stored)
    summary = schema.summary_values(stored.seeds, stored.baseline_auc)
    run.summary.update({**summary, "seconds": stored.seconds, "cached": cached})
    _log_curves_artifact(run, stored, spec)
    _use_feature_caches(run, cache_dir, digests)


def _log_baseline(run: Any, baseline: StoredRun) -> None:
    """The image-only baseline's config, per-epoch rows, sizes and best epochs under
    ``image_only``."""
    entry = schema.baseline_config(baseline.config, baseline.key, baseline.cache_keys)
    run.config.update({schema.BASELINE: entry}, allow_val_change=True)
    for row in schema.baseline_rows(baseline.curves):
        run.log(row)
    run.summary.update(schema.baseline_per_seed(schema.summary_values(baseline.seeds, None)))


def _log_plot_and_table(run: Any, stored: StoredRun) -> None:
    model = stored.curves[stored.curves["stage"] == "model"]
    by_seed = model.pivot(index="seed", columns="epoch", values="auc").sort_index()
    run.log(
        {
            schema.CURVES_PLOT: wandb.plot.line_series(
                xs=[int(epoch) for epoch in by_seed.columns],
                ys=[list(map(float, values)) for values in by_seed.to_numpy()],
                keys=[f"seed {seed}" for seed in by_seed.index],
                title="Validation AUC per epoch",
                xname=schema.STEP,
            )
        }
    )
    comparison = schema.comparison_frame(stored.seeds, stored.baseline_auc)
    if comparison is not None:
        run.log({schema.COMPARISON_TABLE: wandb.Table(dataframe=comparison)})


def _log_curves_artifact(run: Any, stored: StoredRun, spec: str | None) -> None:
    """The run's curves (and comparison) as CSV: a version of the spec's one collection."""
    artifact = wandb.Artifact(
        schema.curves_artifact_name(spec),
        type=schema.CURVES_ARTIFACT_TYPE,
        metadata={schema.RUN_KEY: stored.key},
    )
    comparison = schema.comparison_frame(stored.seeds, stored.baseline_auc)
    with tempfile.TemporaryDirectory() as folder:
        curves_path = Path(folder) / "curves.csv"
        stored.curves.drop(columns="run_key").to_csv(curves_path, index=False)
        artifact.add_file(str(curves_path))
        if comparison is not None:
            comparison_path = Path(folder) / "comparison.csv"
            comparison.to_csv(comparison_path, index=False)
            artifact.add_file(str(comparison_path))
        run.log_artifact(artifact, aliases=["latest", stored.key])  # files staged when added


def log_heads(run: Any, folder: Path, spec: str | None) -> None:
    """A run's heads folder (``heads.safetensors`` and its ``head.json`` card, as the results
    store keeps them) as a version of the spec's model collection. Only weights and the card:
    no rows, ids or text."""
    card = read_card(folder)
    artifact = wandb.Artifact(
        schema.heads_artifact_name(spec),
        type=schema.HEADS_ARTIFACT_TYPE,
        description=f"{card.method} {card.head} head on {card.backbone}: {', '.join(card.classes)}",
        metadata={
            schema.RUN_KEY: card.run_key,
            "seeds": list(card.seeds),
            "method": card.method,
            "head": card.head,
            "backbone": card.backbone,
            "weights": card.weights,
            "classes": list(card.classes),
        },
    )
    artifact.add_file(str(folder / HEADS_FILE))
    artifact.add_file(str(folder / CARD_FILE))
    run.log_artifact(artifact, aliases=["latest", card.run_key])


def _use_feature_caches(run: Any, cache_dir: Path, digests: dict[str, str]) -> None:
    """Online: lineage edges to reference artifacts of the caches read (the marker only, never
    arrays or metadata). Offline W&B refuses ``use_artifact``; the digests in the config let a
    later online step attach them."""
    if run.offline:
        return
    for key, digest in digests.items():
        run.use_artifact(feature_artifact(cache_dir, key, digest))


def feature_artifact(cache_dir: Path, key: str, digest: str) -> Any:
    """A reference artifact of one feature cache: its key, digest and marker file, nothing the
    cache holds (arrays, sample list)."""
    artifact = wandb.Artifact(
        schema.features_artifact_name(key),
        type=schema.FEATURES_ARTIFACT_TYPE,
        metadata={"cache_key": key, "digest": digest},
    )
    marker = CacheDir(cache_dir, key).path / MARKER_FILE
    artifact.add_reference(marker.resolve().as_uri(), name=MARKER_FILE)
    return artifact
