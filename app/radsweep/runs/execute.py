"""Run one configuration end to end: features (extracted if missing), training, results.

``run_configuration`` is the library entry point; no W&B and no queue here (``radsweep.tracking``
wraps these steps in a W&B run). Every path records the results store row in one transaction
and is idempotent by run key. For distillation methods
the image-only baseline of the same configuration is trained too (it is the image-only run's own
configuration and seeds, so its numbers equal that run's) and recorded under its own key.
"""

import time
import warnings
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from radsweep.devices import resolve_device
from radsweep.errors import FeatureCacheError
from radsweep.features import (
    ExtractOptions,
    ImageFeatures,
    TextFeatures,
    ViewPlan,
    load_image_features,
    load_text_features,
)
from radsweep.features.service import ImageRequest, TaskProgress, TextRequest, extract_into_cache
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig, run_key
from radsweep.runs.outcome import RunOutcome
from radsweep.runs.stopwatch import Stopwatch
from radsweep.settings import Settings
from radsweep.tasks.identity import task_digest
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.registry import find_task_directory
from radsweep.training import FitResult, TrainingData, fit
from radsweep.training.engine import Progress as TrainingProgress
from radsweep.training.task_inputs import TaskRows, task_rows


@dataclass(frozen=True)
class RunHooks:
    """Optional progress callbacks (the CLI draws bars with them) and a stopwatch that times
    each stage: features, training, store, tracking (``radsweep bench sweep`` reads it)."""

    extraction: TaskProgress | None = None
    training: TrainingProgress | None = None
    stopwatch: Stopwatch | None = None

    def timed(self, stage: str) -> AbstractContextManager[None]:
        return nullcontext() if self.stopwatch is None else self.stopwatch.timed(stage)


@dataclass(frozen=True)
class PreparedRun:
    """A resolved config with its features opened (memory-mapped) and its cache keys."""

    config: RunConfig
    manifest: Manifest
    image: ImageFeatures | None
    text: TextFeatures | None

    @property
    def cache_keys(self) -> list[str]:
        return [features.key for features in (self.image, self.text) if features is not None]

    @property
    def key(self) -> str:
        return run_key(self.config, self.cache_keys)

    @property
    def task_digest(self) -> str:
        """Which data the task name stands for (recorded with every run; reports select by it)."""
        return task_digest(self.manifest.directory)


def prepare(
    config: RunConfig, settings: Settings, device: str | None = None, hooks: RunHooks = RunHooks()
) -> PreparedRun:
    """Resolve ``config`` against its task and open its features, extracting what is missing."""
    manifest = Manifest.load(find_task_directory(config.task, settings.data), check_images=False)
    resolved = config.resolve(manifest.task)
    image = text = None
    if resolved.backbone is not None:
        image = ImageRequest(
            resolved.backbone,
            resolved.weights,
            variant=resolved.variant,
            tiny=resolved.tiny,
            views=ViewPlan(augmented=resolved.views, seed=resolved.view_seed),
            pool=resolved.pool,
        )
    if resolved.text_encoder is not None:
        text = TextRequest(
            resolved.text_encoder,
            resolved.text_weights,
            max_length=resolved.max_length,
            tiny=resolved.tiny,
        )
    done = extract_into_cache(
        manifest,
        settings,
        image,
        text,
        device=device,
        options=ExtractOptions(wait_for_lock=True),  # sweep workers may share a cache
        progress=hooks.extraction,
    )
    return PreparedRun(
        resolved,
        manifest,
        load_image_features(settings.cache, done.image.key) if done.image else None,
        load_text_features(settings.cache, done.text.key) if done.text else None,
    )


def _tensor(array: np.ndarray | None) -> torch.Tensor | None:
    """A memory map as a tensor without copying it (training reads only the rows it uses)."""
    if array is None:
        return None
    with warnings.catch_warnings():  # read-only maps: training never writes to its inputs
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


def training_inputs(prepared: PreparedRun) -> tuple[TrainingData, TaskRows]:
    """The engine's tensors and each seed's rows, leaving out samples without features."""
    reference = prepared.image or prepared.text
    assert reference is not None
    usable = np.ones(len(reference.sample_ids), bool)
    for features in (prepared.image, prepared.text):
        if features is not None:
            if not np.array_equal(features.sample_ids, reference.sample_ids):
                raise FeatureCacheError(
                    f"caches {reference.key} and {features.key} list different samples",
                    hint="extract both for the same task manifest",
                )
            usable &= features.valid
    config = prepared.config
    rows = task_rows(
        prepared.manifest, config.seeds, config.fraction, list(reference.sample_ids), usable
    )
    data = TrainingData(
        labels=rows.labels,
        classes=prepared.manifest.task.n_classes,
        image=_tensor(prepared.image.tokens if prepared.image else None),
        image_cls=_tensor(prepared.image.cls if prepared.image else None),
        text=_tensor(prepared.text.tokens if prepared.text else None),
        text_mask=_tensor(prepared.text.mask if prepared.text else None),
        class_names=prepared.manifest.task.classes,
    )
    return data, rows


def baseline(prepared: PreparedRun) -> PreparedRun:
    """The image-only configuration a distillation run compares against."""
    config = prepared.config.image_only_baseline(prepared.manifest.task)
    return PreparedRun(config, prepared.manifest, prepared.image, None)


def _train(
    prepared: PreparedRun, device: str | None, hooks: RunHooks
) -> tuple[FitResult, TaskRows]:
    with hooks.timed("training"):
        data, rows = training_inputs(prepared)
        train_config = prepared.config.train_config(prepared.manifest.task)
        result = fit(
            data, rows.splits, train_config, device=resolve_device(device), progress=hooks.training
        )
    return result, rows


def _baseline_auc(
    prepared: PreparedRun, store: ResultsStore, device: str | None, hooks: RunHooks
) -> np.ndarray:
    """Final AUC per seed of the image-only baseline: from the store, or trained and stored."""
    image_only = baseline(prepared)
    with hooks.timed("store"):
        stored = store.has(image_only.key)
    if not stored:
        result, _ = _train(image_only, device, hooks)
        with hooks.timed("store"):
            meta = {"task_digest": image_only.task_digest}
            store.record(image_only.key, image_only.config, result, image_only.cache_keys, meta)
    with hooks.timed("store"):
        rows = store.seed_metrics(image_only.key)
    rows = rows[rows["stage"] == "model"]
    return rows.sort_values("seed")["final_auc"].to_numpy()


def train_and_record(
    prepared: PreparedRun,
    store: ResultsStore,
    *,
    device: str | None = None,
    hooks: RunHooks = RunHooks(),
    started: float | None = None,
) -> RunOutcome:
    """Train a prepared configuration and record it (with its baseline, for distillation)."""
    start = time.perf_counter() if started is None else started
    config, keys = prepared.config, tuple(prepared.cache_keys)
    result, rows = _train(prepared, device, hooks)
    compared = _baseline_auc(prepared, store, device, hooks) if config.method.distils else None
    seconds = time.perf_counter() - start
    meta = {
        "device": str(resolve_device(device)),
        "missing_samples": rows.missing,
        "seconds": seconds,
        "task_digest": prepared.task_digest,
    }
    with hooks.timed("store"):
        store.record(prepared.key, config, result, list(keys), meta)
    return RunOutcome(
        config, prepared.key, False, seconds, keys, result, compared, rows.missing, meta
    )


def stored_outcome(prepared: PreparedRun, started: float) -> RunOutcome:
    """The outcome of a configuration the store already holds (nothing trained)."""
    seconds = time.perf_counter() - started
    return RunOutcome(prepared.config, prepared.key, True, seconds, tuple(prepared.cache_keys))


def run_configuration(
    config: RunConfig,
    settings: Settings,
    *,
    device: str | None = None,
    store: ResultsStore | None = None,
    hooks: RunHooks = RunHooks(),
) -> RunOutcome:
    """Train ``config`` unless the store already holds its key; record what was trained."""
    started = time.perf_counter()
    store = store or ResultsStore(default_store_path(settings))
    prepared = prepare(config, settings, device, hooks)
    if store.has(prepared.key):
        return stored_outcome(prepared, started)
    return train_and_record(prepared, store, device=device, hooks=hooks, started=started)
