"""Run one configuration end to end: features (extracted if missing), training, results.

``run_configuration`` is the library entry point and the only pipeline: no W&B and no queue here.
A tracker watches it through ``RunHooks.observer`` (``radsweep.tracking.observer`` logs it to W&B
as it runs). Every path records the results store row in one transaction and is idempotent by run
key. For distillation methods
the image-only baseline of the same configuration is trained too (it is the image-only run's own
configuration and seeds, so its numbers equal that run's) and recorded under its own key, and
the teacher is kept in the store (``runs.teacher``): a run that shares it (another τ or λ,
another spec, a screen) trains only its student, to the same numbers.
"""

import time
import warnings
from collections.abc import Callable
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
from radsweep.runs.heads import heads_folder, make_card, save_heads
from radsweep.runs.interrupts import Preempted, Preemption
from radsweep.runs.observer import NO_OBSERVER, RunObserver
from radsweep.runs.outcome import RunOutcome
from radsweep.runs.stopwatch import Stopwatch
from radsweep.runs.teacher import teacher_key
from radsweep.settings import Settings
from radsweep.tasks.identity import task_digest
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.registry import find_task_directory
from radsweep.training import FitResult, TrainingData, fit
from radsweep.training.engine import EpochEvent
from radsweep.training.engine import Progress as TrainingProgress
from radsweep.training.task_inputs import TaskRows, task_rows
from radsweep.training.teacher import TeacherRecord

StageProgress = Callable[[str, int, int], None]
"""(stage, epoch, epochs) once per finished epoch: what a progress bar needs."""


@dataclass(frozen=True)
class RunHooks:
    """What watches a run: progress callbacks (the CLI draws bars with them), a stopwatch that
    times each stage (features, training, store, tracking: ``radsweep bench sweep`` reads it),
    the observer (a tracker such as W&B) and the preemption signals to honour."""

    extraction: TaskProgress | None = None
    training: StageProgress | None = None
    stopwatch: Stopwatch | None = None
    observer: RunObserver = NO_OBSERVER
    preemption: Preemption | None = None

    def timed(self, stage: str) -> AbstractContextManager[None]:
        return nullcontext() if self.stopwatch is None else self.stopwatch.timed(stage)

    def critical(self) -> AbstractContextManager[None]:
        """A section a preemption signal does not cut short (it raises when the section ends)."""
        return nullcontext() if self.preemption is None else self.preemption.critical()

    def check(self) -> None:
        if self.preemption is not None:
            self.preemption.check()

    def extraction_progress(self) -> TaskProgress:
        def progress(what: str, done: int, total: int) -> None:
            self.check()
            if self.extraction is not None:
                self.extraction(what, done, total)

        return progress

    def training_progress(self, observed: bool) -> TrainingProgress:
        """The engine's callback: bars, the observer (``observed``: the run's own fit, not its
        baseline's), then a preemption check, once per epoch."""

        def progress(event: EpochEvent) -> None:
            if self.training is not None:
                self.training(event.stage, event.epoch, event.epochs)
            if observed:
                with self.timed("tracking"):
                    self.observer.epoch_finished(event)
            self.check()

        return progress


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

    @property
    def teacher_key(self) -> str | None:
        """Where the store keeps this run's teacher (None for methods without one)."""
        return teacher_key(self.config, self.cache_keys, self.task_digest)


def resolve(
    config: RunConfig, settings: Settings, device: str | None = None
) -> tuple[RunConfig, Manifest]:
    """``config`` resolved against its task (cheap: the manifest, no features) for ``device``
    (its precision), and the task."""
    manifest = Manifest.load(find_task_directory(config.task, settings.data), check_images=False)
    return config.resolve(manifest.task, device), manifest


def open_features(
    resolved: RunConfig,
    manifest: Manifest,
    settings: Settings,
    device: str | None = None,
    hooks: RunHooks = RunHooks(),
) -> PreparedRun:
    """Open the features a resolved config reads (memory-mapped), extracting what is missing."""
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
        progress=hooks.extraction_progress(),
    )
    return PreparedRun(
        resolved,
        manifest,
        load_image_features(settings.cache, done.image.key) if done.image else None,
        load_text_features(settings.cache, done.text.key) if done.text else None,
    )


def prepare(
    config: RunConfig, settings: Settings, device: str | None = None, hooks: RunHooks = RunHooks()
) -> PreparedRun:
    """Resolve ``config`` against its task and open its features, extracting what is missing."""
    resolved, manifest = resolve(config, settings, device)
    return open_features(resolved, manifest, settings, device, hooks)


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
        prepared.manifest,
        config.seeds,
        config.fraction,
        list(reference.sample_ids),
        usable,
        config.scoring,
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


def kept_teacher(
    prepared: PreparedRun, store: ResultsStore, hooks: RunHooks
) -> TeacherRecord | None:
    """The teacher another run of the prepared one's grid kept in the store, if any."""
    key = prepared.teacher_key
    with hooks.timed("store"):
        return store.teacher(key) if key is not None else None


def keep_teacher(
    prepared: PreparedRun,
    store: ResultsStore,
    hooks: RunHooks,
    kept: TeacherRecord | None,
    result: FitResult,
) -> None:
    """Keep the teacher ``result`` trained (``kept`` None: none was in the store) for the rest
    of the grid."""
    key, identity = prepared.teacher_key, prepared.config.teacher_identity()
    if kept is None and key is not None and identity is not None and result.teacher_record:
        with hooks.timed("store"):
            store.record_teacher(key, identity, prepared.cache_keys, result.teacher_record)


def _train(
    prepared: PreparedRun,
    store: ResultsStore,
    device: str | None,
    hooks: RunHooks,
    observed: bool,
    seed_chunk: int | None = None,
) -> tuple[FitResult, TaskRows]:
    """Fit the prepared configuration (``seed_chunk`` seeds per step slice; None: the engine's
    choice); a distillation reads its teacher from the store when another run kept it there,
    and keeps the one it trains."""
    kept = kept_teacher(prepared, store, hooks)
    with hooks.timed("training"):
        data, rows = training_inputs(prepared)
        train_config = prepared.config.train_config(prepared.manifest.task)
        train_config = train_config.model_copy(update={"seed_chunk": seed_chunk})
        progress = hooks.training_progress(observed)
        result = fit(
            data,
            rows.splits,
            train_config,
            device=resolve_device(device),
            progress=progress,
            teacher=kept,
        )
    keep_teacher(prepared, store, hooks, kept, result)
    return result, rows


def keep_heads(prepared: PreparedRun, result: FitResult, store: ResultsStore) -> None:
    """Write the run's heads beside the store (before its row: a stored run has its heads)."""
    cache_keys = prepared.cache_keys
    card = make_card(
        prepared.key, prepared.config, prepared.manifest.task, result, prepared.image, cache_keys
    )
    save_heads(heads_folder(store.path, prepared.key), card, result)


def _baseline_auc(
    image_only: PreparedRun,
    store: ResultsStore,
    device: str | None,
    hooks: RunHooks,
    seed_chunk: int | None = None,
) -> np.ndarray:
    """Final AUC per seed of the image-only baseline: from the store, or trained and stored."""
    with hooks.timed("store"):
        stored = store.has(image_only.key)
    if not stored:
        result, _ = _train(image_only, store, device, hooks, False, seed_chunk)
        with hooks.timed("store"):
            meta = {"task_digest": image_only.task_digest, **chunks_meta(result)}
            keep_heads(image_only, result, store)
            store.record(image_only.key, image_only.config, result, image_only.cache_keys, meta)
    with hooks.timed("store"):
        rows = store.seed_metrics(image_only.key)
    rows = rows[rows["stage"] == "model"]
    return rows.sort_values("seed")["final_auc"].to_numpy()


def _baseline_key(prepared: PreparedRun) -> str | None:
    return baseline(prepared).key if prepared.config.method.distils else None


def train_and_record(
    prepared: PreparedRun,
    store: ResultsStore,
    *,
    device: str | None = None,
    hooks: RunHooks = RunHooks(),
    started: float | None = None,
    seed_chunk: int | None = None,
) -> RunOutcome:
    """Train a prepared configuration and record it (with its baseline, for distillation);
    ``seed_chunk``: seeds per step slice (``TrainConfig.seed_chunk``), never part of the key."""
    start = time.perf_counter() if started is None else started
    result, rows = _train(prepared, store, device, hooks, True, seed_chunk)
    return record_run(
        prepared,
        result,
        rows,
        store,
        device=device,
        hooks=hooks,
        started=start,
        seed_chunk=seed_chunk,
    )


def record_run(
    prepared: PreparedRun,
    result: FitResult,
    rows: TaskRows,
    store: ResultsStore,
    *,
    device: str | None,
    hooks: RunHooks,
    started: float,
    seed_chunk: int | None = None,
) -> RunOutcome:
    """Record a trained configuration: its baseline (trained first if the store lacks it, for
    distillation, ``seed_chunk`` seeds per step slice), its heads, then its store row."""
    config, keys = prepared.config, tuple(prepared.cache_keys)
    compared = None
    if config.method.distils:
        compared = _baseline_auc(baseline(prepared), store, device, hooks, seed_chunk)
    seconds = time.perf_counter() - started
    meta = {
        "device": str(resolve_device(device)),
        "missing_samples": rows.missing,
        "seconds": seconds,
        "task_digest": prepared.task_digest,
        **chunks_meta(result),
    }
    if config.method.distils:
        meta["teacher_key"] = prepared.teacher_key
    hooks.check()  # a signal after the last epoch: preempted, nothing stored
    with hooks.timed("store"):
        keep_heads(prepared, result, store)
        store.record(prepared.key, config, result, list(keys), meta)
    return RunOutcome(
        config,
        prepared.key,
        False,
        seconds,
        keys,
        result,
        compared,
        rows.missing,
        meta,
        baseline_key=_baseline_key(prepared),
    )


def chunks_meta(result: FitResult) -> dict[str, object]:
    """What a run's meta records of how its seeds were cut (``FitResult.seed_chunks``: per
    stage trained now, the seeds per slice that ran). The one asked for is in its train
    config; neither is part of the run key. Runs recorded before this have no such entry."""
    return {"seed_chunks": {stage: list(sizes) for stage, sizes in result.seed_chunks.items()}}


def stored_outcome(prepared: PreparedRun, started: float) -> RunOutcome:
    """The outcome of a configuration the store already holds (nothing trained)."""
    seconds = time.perf_counter() - started
    keys = tuple(prepared.cache_keys)
    return RunOutcome(
        prepared.config, prepared.key, True, seconds, keys, baseline_key=_baseline_key(prepared)
    )


def run_configuration(
    config: RunConfig,
    settings: Settings,
    *,
    device: str | None = None,
    store: ResultsStore | None = None,
    hooks: RunHooks = RunHooks(),
) -> RunOutcome:
    """Train ``config`` unless the store already holds its key; record what was trained.

    The one pipeline: resolve -> (observer: started) -> features -> fit -> record -> (observer:
    stored). ``settings.seed_chunk`` says how many seeds a training step holds at once (not
    part of the run key: the numbers are the same). A run its orchestrator stops
    (``hooks.observer.stop_requested``) returns a ``stopped`` outcome with nothing stored; a
    preemption or a failure is raised again after the observer has seen it.
    """
    started = time.perf_counter()
    with hooks.timed("store"):
        store = store or ResultsStore(default_store_path(settings))
    resolved, prepared = config, None
    try:
        with hooks.critical():  # the observer's run exists before a preemption is raised
            resolved, manifest = resolve(config, settings, device)
            with hooks.timed("tracking"):
                hooks.observer.run_started(resolved)
        with hooks.timed("features"):
            prepared = open_features(resolved, manifest, settings, device, hooks)
        with hooks.timed("store"):
            cached = store.has(prepared.key)
        hooks.check()
        if cached:
            outcome = stored_outcome(prepared, started)
        else:
            outcome = train_and_record(
                prepared,
                store,
                device=device,
                hooks=hooks,
                started=started,
                seed_chunk=settings.seed_chunk,
            )
        with hooks.timed("tracking"):
            hooks.observer.stored(outcome)
    except BaseException as error:
        with hooks.timed("tracking"):
            _ended(error, hooks.observer, _machine_signal(error, hooks))
        key = prepared.key if prepared is not None else ""
        seconds = time.perf_counter() - started
        return RunOutcome(resolved, key, False, seconds, (), stopped=True)
    return outcome


def _machine_signal(error: BaseException, hooks: RunHooks) -> BaseException:
    """What ended the run as the observer judges it: ``Preempted`` when the machine signalled,
    whatever error reached this thread. W&B's pyagent, on its own way out after a SIGTERM, kills
    the run's thread with an error of its own, which must not read as the server stopping the
    run (that is asked of the server, as for the stock agent)."""
    preemption = hooks.preemption
    if preemption is None or not preemption.requested.is_set() or isinstance(error, Preempted):
        return error
    return Preempted(preemption.signum)


def _ended(error: BaseException, observer: RunObserver, judged: BaseException) -> None:
    """Tell the observer how the run ended (``judged``); raise ``error`` itself again, so the
    caller sees what reached it, unless the run was stopped."""
    if observer.stop_requested(judged):
        observer.stopped()
        return
    if isinstance(judged, Preempted):
        observer.preempted()
    else:
        observer.failed(error)
    raise error
