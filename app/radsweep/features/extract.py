"""Batched, resumable extraction of image and report tokens into the feature cache.

Decoding and preprocessing run in DataLoader worker processes and writing runs on a background
thread, so the encoder's forward pass is the only work on the critical path. On CUDA, batches are
pinned, copied asynchronously, laid out channels_last and run under autocast (bf16 where the
GPU has it, fp16 otherwise), in the largest batch that fits the GPU's free memory; tokens are
stored as fp16 either way. A run resumes at shard granularity (see ``writing``).
"""

import csv
import io
import multiprocessing
import os
import queue
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from radsweep.atomic import write_text_atomic
from radsweep.encoders.base import ImageEncoder, TextEncoder
from radsweep.errors import FeatureCacheError
from radsweep.features.decode import BadImage, check_image, decode_image
from radsweep.features.keys import (
    ImageCacheSpec,
    Precision,
    TextCacheSpec,
    cache_key,
    image_cache_spec,
    text_cache_spec,
)
from radsweep.features.layout import BAD_IMAGES_FILE, CacheDir
from radsweep.features.pooling import pool_tokens, token_grid
from radsweep.features.records import CacheRecord, Shard, ShardPlan
from radsweep.features.views import ViewPlan
from radsweep.features.writing import ShardFile, finalize
from radsweep.tasks.manifest import Manifest

IMAGE_AXES = {"tokens": 1, "cls": 1}  # arrays are [V, N, ...]
TEXT_AXES = {"tokens": 0, "mask": 0}  # arrays are [N, ...]
_AUTOCAST = {"fp16": torch.float16, "bf16": torch.bfloat16}
_WRITE_QUEUE = 4
_SHOWN_REASONS = 3
_SCAN_THREADS = 8
_SPACE_MARGIN = 0.05  # headers, metadata and the file system's own overhead
_WORKER_TIMEOUT = 600.0  # seconds a decoding worker may take for one batch
CPU_BATCH = 32
MAX_BATCH = 512
PROBE_BATCH = 4
MEMORY_SHARE = 0.7  # of the free GPU memory: the rest is headroom for the allocator and workers
CENTRE_ONLY = ViewPlan()

Progress = Callable[[int, int], None]
"""Called with (samples just finished, samples this run computes in all)."""


@dataclass(frozen=True)
class ExtractOptions:
    """How to run an extraction; none of these change the cached numbers (or the key)."""

    batch_size: int | None = None  # None: as many as fit the GPU's memory; CPU_BATCH on the CPU
    workers: int | None = None  # decoding processes; None: one per spare core
    shard_size: int = 1024  # samples per shard: the unit of resuming
    skip_bad: bool = False
    precision: Precision | None = None  # None: bf16 (else fp16) autocast on CUDA, fp32 elsewhere
    force: bool = False
    command: str | None = None  # the command line to show in resume and repair hints
    wait_for_lock: bool = False  # block while another process extracts the same cache
    reuse_excluded: bool = False  # reuse a cache whose exclusions were recorded by --skip-bad


@dataclass(frozen=True)
class ExtractionResult:
    key: str
    directory: Path
    reused: bool
    computed_shards: int
    total_shards: int
    excluded: dict[str, str]
    seconds: float


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(16, (cores or 2) - 1))


def resolve_precision(device: torch.device, precision: Precision | None) -> Precision:
    """bf16 on GPUs that have it (fp16's range overflows on some backbones), fp16 on older
    GPUs, fp32 on the CPU, where autocast is slower than fp32 for most operators."""
    if precision is not None:
        return precision
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def fit_batch_size(encoder: ImageEncoder, precision: Precision, views: int = 1) -> int:
    """The largest batch (a power of two up to MAX_BATCH) whose forward pass fits the GPU.

    One probe forward of PROBE_BATCH images measures the memory each image takes (activations
    and stored tokens); the batch then uses MEMORY_SHARE of what is free. CPU_BATCH on the CPU.
    """
    device = _device_of(encoder)
    if device.type != "cuda":
        return CPU_BATCH
    size = encoder.info.input_size or 224
    probe = torch.zeros(PROBE_BATCH, 3, size, size, device=device)
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    with torch.inference_mode(), _autocast(device, precision):
        encoder(probe.contiguous(memory_format=torch.channels_last))
    per_image = (torch.cuda.max_memory_allocated(device) - base) / PROBE_BATCH * views
    free, _ = torch.cuda.mem_get_info(device)
    fits = int(free * MEMORY_SHARE / max(per_image, 1.0))
    return max(1, min(MAX_BATCH, 1 << max(0, fits.bit_length() - 1)))


def _autocast(device: torch.device, precision: Precision) -> AbstractContextManager[object]:
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=_AUTOCAST[precision])


def _device_of(module: torch.nn.Module) -> torch.device:
    for tensor in [*module.parameters(), *module.buffers()]:
        return tensor.device
    return torch.device("cpu")


def _to_host(arrays: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Stored arrays on the CPU, after a check on the device that fp16 held every value."""
    for name, values in arrays.items():
        if values.is_floating_point() and not bool(torch.isfinite(values).all()):
            raise FeatureCacheError(
                f"the encoder produced NaN/inf {name} (or values beyond fp16's ±65504)",
                hint="with --precision fp16 try bf16 or fp32; otherwise check the weights",
            )
    return {name: values.cpu().numpy() for name, values in arrays.items()}


def _batches(shards: list[Shard], batch_size: int) -> list[list[int]]:
    """Batches never straddle shards, so a resumed shard is computed exactly as before."""
    return [
        list(range(start, min(start + batch_size, shard.stop)))
        for shard in shards
        for start in range(shard.start, shard.stop, batch_size)
    ]


def check_free_space(
    cache: CacheDir, arrays: dict[str, np.ndarray], axes: dict[str, int], pending: int, total: int
) -> None:
    """Refuse to start writing what the disk cannot hold: the pending shards, then the final
    arrays they are copied into (shards and final arrays coexist until the copy is done)."""
    per_sample = sum(values.nbytes / values.shape[axes[name]] for name, values in arrays.items())
    needed = per_sample * (pending + total) * (1 + _SPACE_MARGIN)
    free = shutil.disk_usage(cache.path).free
    if needed > free:
        raise FeatureCacheError(
            f"feature cache {cache.key} needs about {needed / 2**30:.2f} GiB on the disk of "
            f"{cache.path}, which has {free / 2**30:.2f} GiB free",
            hint="free some space there, or point --cache-dir elsewhere",
        )


class _Writer:
    """Writes finished batches into shards on a background thread, hiding disk I/O."""

    def __init__(
        self, cache: CacheDir, plan: ShardPlan, axes: dict[str, int], pending: int
    ) -> None:
        self.cache, self.axes = cache, axes
        self.pending, self.total = pending, plan.samples
        self.shards = plan.shards()
        self.shard_size = plan.shard_size
        self._files: dict[int, ShardFile] = {}
        self._excluded: dict[int, dict[str, str]] = {}
        self._queue: queue.Queue[tuple[int, dict[str, np.ndarray], dict[str, str]] | None]
        self._queue = queue.Queue(maxsize=_WRITE_QUEUE)
        self._error: BaseException | None = None
        # Started on first use: DataLoader workers fork before then, without this thread.
        self._thread = threading.Thread(target=self._run, name="radsweep-writer", daemon=True)

    def put(self, first: int, arrays: dict[str, np.ndarray], excluded: dict[str, str]) -> None:
        if not self._thread.is_alive():
            check_free_space(self.cache, arrays, self.axes, self.pending, self.total)
            self._thread.start()
        self._raise()
        self._queue.put((first, arrays, excluded))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write(*item)
                except BaseException as error:  # handed to the main thread by _raise
                    self._error = error

    def _write(self, first: int, arrays: dict[str, np.ndarray], excluded: dict[str, str]) -> None:
        shard = self.shards[first // self.shard_size]
        file = self._files.setdefault(shard.index, ShardFile(self.cache, shard, self.axes))
        file.write(first - shard.start, arrays)
        self._excluded.setdefault(shard.index, {}).update(excluded)
        if file.full:
            file.commit(self._excluded.pop(shard.index))
            del self._files[shard.index]

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self, abort: bool = False) -> None:
        """Finish queued writes (complete shards are kept even on abort); drop partial shards."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        for file in self._files.values():
            file.discard()
        if not abort:
            self._raise()


Compute = Callable[[list[Shard], _Writer], None]


def _extract(
    cache_dir: Path,
    spec: ImageCacheSpec | TextCacheSpec,
    manifest: Manifest,
    options: ExtractOptions,
    axes: dict[str, int],
    compute: Compute,
) -> ExtractionResult:
    key = cache_key(spec)
    cache = CacheDir(cache_dir, key)
    started = time.perf_counter()
    with cache.lock(wait=options.wait_for_lock):
        if options.force:
            cache.clear()
        if cache.is_complete():
            metadata = cache.metadata()
            if metadata.excluded and not (options.skip_bad or options.reuse_excluded):
                raise FeatureCacheError(
                    f"feature cache {key} exists but lacks {len(metadata.excluded)} bad image(s)",
                    hint="pass --skip-bad to use it, or fix the images and extract with --force",
                )
            shards = len(metadata.plan.shards())
            return ExtractionResult(key, cache.path, True, 0, shards, metadata.excluded, 0.0)
        plan = ShardPlan(samples=len(manifest.frame), shard_size=options.shard_size)
        record = cache.start(
            CacheRecord(
                key=key,
                spec=spec,
                plan=plan,
                task=manifest.task.name,
                command=options.command,
                image_root=str(manifest.image_root.resolve()) if spec.kind == "image" else None,
            )
        )
        cache.clean_partials()
        done = cache.done_shards(drop_damaged=True)
        pending = [shard for shard in record.plan.shards() if shard.index not in done]
        writer = _Writer(cache, record.plan, axes, sum(shard.size for shard in pending))
        try:
            compute(pending, writer)
        except BaseException:
            writer.close(abort=True)
            raise
        writer.close()
        seconds = time.perf_counter() - started
        metadata = finalize(
            cache,
            list(manifest.frame["sample_id"]),
            {"batch_size": options.batch_size, "last_run_seconds": round(seconds, 3)},
        )
    return ExtractionResult(
        key, cache.path, False, len(pending), len(record.plan.shards()), metadata.excluded, seconds
    )


def _bad_images(cache: CacheDir, manifest: Manifest, bad: dict[int, str]) -> FeatureCacheError:
    """Write the offending files to bad-images.tsv; the error names the file, not the images."""
    lines = io.StringIO()
    table = csv.writer(lines, delimiter="\t", lineterminator="\n")
    table.writerow(["image_path", "reason"])
    for index, reason in sorted(bad.items()):
        table.writerow([manifest.frame["image_path"].iloc[index], reason])
    target = cache.path / BAD_IMAGES_FILE
    write_text_atomic(target, lines.getvalue())
    reasons = Counter(bad.values()).most_common()
    shown = "; ".join(f"{count} {reason}" for reason, count in reasons[:_SHOWN_REASONS])
    hidden = len(reasons) - _SHOWN_REASONS
    more = f"; {hidden} more reasons" if hidden > 0 else ""
    return FeatureCacheError(
        f"{len(bad)} image(s) of task {manifest.task.name} cannot be used ({shown}{more}); "
        f"the list is in {target}",
        hint="fix or remove them, or record them as exclusions with `radsweep features extract "
        f"--task {manifest.task.name} ... --skip-bad` (training then leaves them out)",
    )


class _ImageDataset(Dataset[tuple[int, torch.Tensor, str | None]]):
    """Decodes one radiograph and preprocesses all of its views (in a worker process)."""

    def __init__(
        self, paths: list[Path], sample_ids: list[str], views: ViewPlan, encoder: ImageEncoder
    ) -> None:
        self.paths, self.sample_ids, self.views = paths, sample_ids, views
        self.preprocess = encoder.preprocess
        self._blank: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def _views(self, index: int, image: Image.Image) -> torch.Tensor:
        boxes = self.views.boxes(self.sample_ids[index], image.width, image.height)
        return torch.stack([self.preprocess(image, box) for box in boxes])

    def __getitem__(self, index: int) -> tuple[int, torch.Tensor, str | None]:
        try:
            return index, self._views(index, decode_image(self.paths[index])), None
        except BadImage as error:
            # A blank stand-in keeps every batch the same size; its rows are zeroed later.
            if self._blank is None:
                self._blank = self._views(index, Image.new("L", (64, 64)))
            return index, self._blank, str(error)


def _collate(
    items: list[tuple[int, torch.Tensor, str | None]],
) -> tuple[list[int], torch.Tensor, list[str | None]]:
    """Stack to ``[V, B, C, H, W]`` so that each view's batch is contiguous (and pinned)."""
    return (
        [index for index, _, _ in items],
        torch.stack([pixels for _, pixels, _ in items], dim=1),
        [reason for _, _, reason in items],
    )


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)


def _import_before_forking(dataset: _ImageDataset) -> None:
    """Decode and preprocess one image of each file type in this process before workers fork.

    Decoders and transforms import their modules lazily, and while a W&B run is open W&B's
    import hooks report every first import to its service, which fails in a forked worker
    (``ForkedError``: feature extraction inside a sweep run on uncached data). Imported here,
    the workers inherit the modules and import nothing."""
    seen: set[str] = set()
    for index, path in enumerate(dataset.paths):
        if path.suffix.lower() not in seen:
            seen.add(path.suffix.lower())
            dataset[index]


def _loader(
    dataset: _ImageDataset, batches: list[list[int]], workers: int, pin: bool
) -> DataLoader[tuple[int, torch.Tensor, str | None]]:
    forked = workers > 0 and "fork" in multiprocessing.get_all_start_methods()
    if forked:
        _import_before_forking(dataset)
    return DataLoader(
        dataset,
        batch_sampler=batches,
        num_workers=workers,
        collate_fn=_collate,
        pin_memory=pin,
        worker_init_fn=_worker_init if workers else None,
        # fork shares the encoder with workers instead of pickling its weights.
        multiprocessing_context="fork" if forked else None,
        timeout=_WORKER_TIMEOUT if workers else 0,  # a hung file read fails instead of hanging
    )


def _encode_views(
    encoder: ImageEncoder, pixels: torch.Tensor, precision: Precision, pool: int
) -> dict[str, np.ndarray]:
    """``[V, B, C, H, W]`` to fp16 ``tokens [V, B, T, D]`` and ``cls [V, B, D]``."""
    device = _device_of(encoder)
    tokens, cls = [], []
    for view in pixels:
        batch = view.to(device, non_blocking=True)
        if device.type == "cuda":
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), _autocast(device, precision):
            out = encoder(batch)
        local = out.tokens
        if pool > 1:
            grid = token_grid(local.shape[1], encoder.info.grid)
            local = pool_tokens(local.float(), grid, pool)
        tokens.append(local.to(torch.float16))
        if out.cls is not None:
            cls.append(out.cls.to(torch.float16))
    arrays = {"tokens": torch.stack(tokens)}
    if cls:
        arrays["cls"] = torch.stack(cls)
    return _to_host(arrays)


def _problem(path: Path) -> str | None:
    try:
        check_image(path)
    except BadImage as error:
        return str(error)
    return None


def _scan(manifest: Manifest, shards: list[Shard]) -> dict[int, str]:
    """Header-level check of the images still to extract: cheap, and finds most bad files.

    Threads, because on network storage the time goes into waiting for each file's first bytes.
    """
    paths = manifest.image_paths()
    indices = [i for shard in shards for i in range(shard.start, shard.stop)]
    with ThreadPoolExecutor(max_workers=_SCAN_THREADS) as pool:
        problems = pool.map(_problem, [paths[i] for i in indices])
        return {i: why for i, why in zip(indices, problems, strict=True) if why}


def extract_image_features(
    encoder: ImageEncoder,
    manifest: Manifest,
    cache_dir: Path,
    views: ViewPlan = CENTRE_ONLY,
    pool: int = 1,
    options: ExtractOptions = ExtractOptions(),
    progress: Progress | None = None,
) -> ExtractionResult:
    """Cache ``encoder``'s tokens for every image of ``manifest`` (reusing a finished cache)."""
    device = _device_of(encoder)
    precision = resolve_precision(device, options.precision)
    spec = image_cache_spec(encoder, manifest, views, pool, precision)
    sample_ids = list(manifest.frame["sample_id"])
    workers = default_workers() if options.workers is None else options.workers

    def compute(pending: list[Shard], writer: _Writer) -> None:
        if not options.skip_bad and (bad := _scan(manifest, pending)):
            raise _bad_images(writer.cache, manifest, bad)
        if device.type == "cpu":
            torch.set_flush_denormal(True)  # random or tiny weights: denormals cost 3-15x
        else:
            encoder.to(memory_format=torch.channels_last)
        batch_size = options.batch_size or fit_batch_size(encoder, precision, views.count)
        batches = _batches(pending, batch_size)
        total = sum(len(batch) for batch in batches)
        dataset = _ImageDataset(manifest.image_paths(), sample_ids, views, encoder)
        for indices, pixels, reasons in _loader(dataset, batches, workers, device.type == "cuda"):
            bad = {index: why for index, why in zip(indices, reasons, strict=True) if why}
            if bad and not options.skip_bad:
                raise _bad_images(writer.cache, manifest, bad)
            arrays = _encode_views(encoder, pixels, precision, pool)
            rows = [row for row, why in enumerate(reasons) if why]
            for values in arrays.values():
                values[:, rows] = 0
            writer.put(indices[0], arrays, {sample_ids[i]: why for i, why in bad.items()})
            if progress:
                progress(len(indices), total)

    return _extract(cache_dir, spec, manifest, options, IMAGE_AXES, compute)


def extract_text_features(
    encoder: TextEncoder,
    manifest: Manifest,
    cache_dir: Path,
    options: ExtractOptions = ExtractOptions(),
    progress: Progress | None = None,
) -> ExtractionResult:
    """Cache ``encoder``'s token embeddings and attention masks for every report."""
    device = _device_of(encoder)
    precision = resolve_precision(device, options.precision)
    spec = text_cache_spec(encoder, manifest, precision)
    reports = list(manifest.frame["report"])

    def compute(pending: list[Shard], writer: _Writer) -> None:
        if device.type == "cpu":
            torch.set_flush_denormal(True)
        batches = _batches(pending, options.batch_size or CPU_BATCH)
        total = sum(len(batch) for batch in batches)
        for batch in batches:
            encoded = encoder.tokenize([reports[i] for i in batch])
            ids = encoded["input_ids"].to(device)
            mask = encoded["attention_mask"].to(device)
            with torch.inference_mode(), _autocast(device, precision):
                out = encoder(ids, mask)
            arrays = _to_host(
                {"tokens": out.tokens.to(torch.float16), "mask": out.mask.to(torch.bool)}
            )
            writer.put(batch[0], arrays, {})
            if progress:
                progress(len(batch), total)

    return _extract(cache_dir, spec, manifest, options, TEXT_AXES, compute)
