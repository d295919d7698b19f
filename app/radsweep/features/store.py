"""The on-disk feature cache: sharded crash-safe writes, then one memory-mapped array per field.

Layout of ``CACHE/features/<key>/``::

    spec.json          what the cache holds (its key hashes the spec), the shard plan, the command
    shards/            while extracting: NNNNNN.<array>.npy per shard, then NNNNNN.json (the commit)
    tokens.npy, ...    when complete: fp16 arrays aligned to sample_ids.json (manifest order)
    metadata.json      shapes, per-shard sha256 of every array, exclusions, sample-id checksum
    COMPLETE           the completeness marker: the sha256 of metadata.json

A shard's arrays grow in ``.partial`` files, are renamed into place, and count as done only once
its record is written (atomically, last). A killed run therefore resumes at shard granularity and
recomputes at most the shards it was writing. When every shard is done they are copied into the
final arrays (again temp + rename) and the marker is written last of all.
"""

import errno
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from radsweep.atomic import atomic_path, write_text_atomic
from radsweep.errors import FeatureCacheError
from radsweep.features.keys import CacheSpec, ImageCacheSpec, TextCacheSpec

FEATURES = "features"
SPEC_FILE = "spec.json"
METADATA_FILE = "metadata.json"
MARKER_FILE = "COMPLETE"
SAMPLES_FILE = "sample_ids.json"
SHARDS = "shards"
BAD_IMAGES_FILE = "bad-images.tsv"
PARTIAL = ".partial"
LOCK_FILE = ".lock"
_HASH_CHUNK = 1 << 24
_FINITE_CHUNK = 1 << 26  # bytes read per slab by the finite check
_FP16_EXPONENT = 0x7C00
_finite_files: set[tuple[str, int, int, int]] = set()


class Shard(BaseModel):
    """Samples ``start:stop`` of the manifest: the unit of writing and resuming."""

    model_config = ConfigDict(frozen=True)

    index: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


class ShardPlan(BaseModel):
    """How the samples are cut into shards; fixed by the first run so resumes line up."""

    model_config = ConfigDict(frozen=True)

    samples: int = Field(ge=1)
    shard_size: int = Field(ge=1)

    def shards(self) -> list[Shard]:
        starts = range(0, self.samples, self.shard_size)
        return [
            Shard(index=i, start=start, stop=min(start + self.shard_size, self.samples))
            for i, start in enumerate(starts)
        ]


class ArrayInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    shape: tuple[int, ...]
    dtype: str
    sample_axis: int


class ShardRecord(BaseModel):
    """The commit record of one shard: its arrays' shapes and checksums, and its exclusions."""

    model_config = ConfigDict(frozen=True)

    shard: Shard
    arrays: dict[str, ArrayInfo]
    sha256: dict[str, str]
    excluded: dict[str, str] = {}  # sample_id -> reason


class CacheRecord(BaseModel):
    """spec.json: written when extraction starts, so ``ls`` and resumes know what is coming."""

    model_config = ConfigDict(frozen=True)

    key: str
    spec: CacheSpec
    plan: ShardPlan
    task: str
    command: str | None = None
    image_root: str | None = None  # provenance: where the fingerprinted images were read


class CacheMetadata(BaseModel):
    """metadata.json of a complete cache."""

    model_config = ConfigDict(frozen=True)

    key: str
    spec: CacheSpec
    plan: ShardPlan
    task: str
    command: str | None = None
    image_root: str | None = None
    arrays: dict[str, ArrayInfo]
    shards: list[ShardRecord]
    excluded: dict[str, str]
    sample_ids_sha256: str
    extraction: dict[str, Any] = {}


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def sha256_region(array: np.ndarray, axis: int, start: int, stop: int) -> str:
    """sha256 of ``array``'s C-order bytes restricted to ``start:stop`` along ``axis``.

    A shard file and the same samples inside the final array hash alike, so one checksum per
    shard verifies both.
    """
    digest = hashlib.sha256()
    for lead in np.ndindex(*array.shape[:axis]):
        chunk = np.ascontiguousarray(array[lead][start:stop]).reshape(-1).view(np.uint8)
        for offset in range(0, chunk.size, _HASH_CHUNK):
            digest.update(chunk[offset : offset + _HASH_CHUNK])
    return digest.hexdigest()


def resume_hint(command: str | None) -> str:
    """How to continue an interrupted extraction: the command that started it, run again."""
    again = f"`{command}`" if command else "the extract command that built it"
    return f"run {again} again to resume"


def reserve(path: Path) -> None:
    """Allocate a new memory-mapped file's blocks now: a full disk is then one clear error here,
    not a SIGBUS (and a half-written file) when a later write into the map finds no space."""
    with path.open("r+b") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, os.fstat(handle.fileno()).st_size)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise FeatureCacheError(
                    f"no space left for {path.name} in {path.parent}",
                    hint="free some space on that disk, or point --cache-dir elsewhere, then run "
                    "the same command again (finished shards are kept)",
                ) from error
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise


class CacheDir:
    """One cache folder and its state: in progress (shards) or complete (arrays + marker)."""

    def __init__(self, cache_dir: Path, key: str) -> None:
        self.key = key
        self.path = cache_dir / FEATURES / key

    @property
    def shards_dir(self) -> Path:
        return self.path / SHARDS

    def array_path(self, name: str) -> Path:
        return self.path / f"{name}.npy"

    def shard_path(self, shard: Shard, name: str) -> Path:
        return self.shards_dir / f"{shard.index:06d}.{name}.npy"

    def record_path(self, shard: Shard) -> Path:
        return self.shards_dir / f"{shard.index:06d}.json"

    def exists(self) -> bool:
        return (self.path / SPEC_FILE).is_file()

    def is_complete(self) -> bool:
        return (self.path / MARKER_FILE).is_file()

    def record(self) -> CacheRecord:
        path = self.path / SPEC_FILE
        if not path.is_file():
            raise FeatureCacheError(
                f"no feature cache {self.key} under {self.path.parent}",
                hint="list caches with `radsweep features ls`",
            )
        try:
            return CacheRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValidationError) as error:
            raise FeatureCacheError(
                f"{path} is unreadable or damaged ({_first_line(error)})",
                hint=f"remove the folder {self.path} and extract again",
            ) from error

    def start(self, record: CacheRecord) -> CacheRecord:
        """Write spec.json for a new cache, or return the existing one (its plan wins)."""
        if self.exists():
            existing = self.record()
            if existing.spec != record.spec:
                raise FeatureCacheError(
                    f"cache folder {self.path} holds a different spec under the same key",
                    hint=f"remove {self.path} and extract again",
                )
            return existing
        write_text_atomic(self.path / SPEC_FILE, record.model_dump_json(indent=2))
        return record

    @contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        """One writer per cache: a second extraction of the same key fails at once, or with
        ``wait`` (sweep workers sharing caches) blocks until the first one is done."""
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / LOCK_FILE).open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as error:
                raise FeatureCacheError(
                    f"another process is writing feature cache {self.key}",
                    hint="wait for it to finish (it resumes this cache's shards)",
                ) from error
            yield

    def clean_partials(self) -> None:
        """Remove what a killed run was writing (never a committed shard)."""
        if self.shards_dir.is_dir():
            for path in self.shards_dir.iterdir():
                if path.name.endswith(PARTIAL) or path.name.endswith(".tmp"):
                    path.unlink(missing_ok=True)

    def done_shards(self, drop_damaged: bool = False) -> dict[int, ShardRecord]:
        """Committed shards whose array files are all present and open with their recorded
        shapes. ``drop_damaged`` (a writer, under the lock) deletes the others, so that a
        truncated shard is recomputed instead of failing every resume in consolidation."""
        done: dict[int, ShardRecord] = {}
        if not self.shards_dir.is_dir():
            return done
        for path in sorted(self.shards_dir.glob("*.json")):
            try:
                record = ShardRecord.model_validate_json(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValidationError):
                if drop_damaged:
                    path.unlink(missing_ok=True)
                continue
            if self._intact(record):
                done[record.shard.index] = record
            elif drop_damaged:
                self.drop_shard(record.shard)
        return done

    def _intact(self, record: ShardRecord) -> bool:
        """Every array of a committed shard opens with its recorded shape (headers only)."""
        for name, info in record.arrays.items():
            try:
                array = np.load(self.shard_path(record.shard, name), mmap_mode="r")
            except (OSError, ValueError):
                return False
            if array.shape != info.shape or str(array.dtype) != info.dtype:
                return False
        return True

    def drop_shard(self, shard: Shard) -> None:
        """Forget a shard (record first, so a crash midway cannot leave a record without data)."""
        self.record_path(shard).unlink(missing_ok=True)
        for path in self.shards_dir.glob(f"{shard.index:06d}.*.npy"):
            path.unlink()

    def metadata(self) -> CacheMetadata:
        """The metadata of a complete cache, checked against its marker."""
        record = self.record()
        if not self.is_complete():
            done, total = len(self.done_shards()), len(record.plan.shards())
            raise FeatureCacheError(
                f"feature cache {self.key} is incomplete ({done}/{total} shards)",
                hint=resume_hint(record.command),
            )
        path = self.path / METADATA_FILE
        text = path.read_bytes() if path.is_file() else b""
        if (self.path / MARKER_FILE).read_text().strip() != hashlib.sha256(text).hexdigest():
            raise FeatureCacheError(
                f"feature cache {self.key}: metadata.json does not match its completeness marker",
                hint=f"run `radsweep features verify {self.key} --repair`, then "
                + resume_hint(record.command),
            )
        return CacheMetadata.model_validate_json(text)

    def size_on_disk(self) -> int:
        return sum(path.stat().st_size for path in self.path.rglob("*") if path.is_file())

    def clear(self) -> None:
        """Delete everything but the lock (held by the caller), to extract again from scratch."""
        for path in self.path.iterdir():
            if path.name == LOCK_FILE:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


class ShardFile:
    """One shard being written: rows land in ``.partial`` memmaps; commit renames, then records."""

    def __init__(self, cache: CacheDir, shard: Shard, sample_axes: dict[str, int]) -> None:
        self.cache = cache
        self.shard = shard
        self.sample_axes = sample_axes
        self.arrays: dict[str, np.memmap] = {}
        self.rows = 0

    def _partial(self, name: str) -> Path:
        return self.cache.shard_path(self.shard, name).with_name(
            self.cache.shard_path(self.shard, name).name + PARTIAL
        )

    def _array(self, name: str, values: np.ndarray) -> np.memmap:
        if name not in self.arrays:
            shape = list(values.shape)
            shape[self.sample_axes[name]] = self.shard.size
            self.cache.shards_dir.mkdir(parents=True, exist_ok=True)
            self.arrays[name] = np.lib.format.open_memmap(
                self._partial(name), mode="w+", dtype=values.dtype, shape=tuple(shape)
            )
            reserve(self._partial(name))
        return self.arrays[name]

    def write(self, offset: int, arrays: dict[str, np.ndarray]) -> None:
        """Rows ``offset:offset+n`` of this shard (n along each array's sample axis)."""
        rows = 0
        for name, values in arrays.items():
            axis = self.sample_axes[name]
            rows = values.shape[axis]
            target = self._array(name, values)
            index = (slice(None),) * axis + (slice(offset, offset + rows),)
            target[index] = values
        self.rows += rows

    @property
    def full(self) -> bool:
        return self.rows == self.shard.size

    def commit(self, excluded: dict[str, str]) -> ShardRecord:
        infos, sums = {}, {}
        for name, array in self.arrays.items():
            axis = self.sample_axes[name]
            array.flush()
            infos[name] = ArrayInfo(shape=array.shape, dtype=str(array.dtype), sample_axis=axis)
            sums[name] = sha256_region(array, axis, 0, self.shard.size)
        self.arrays.clear()
        for name in infos:
            os.replace(self._partial(name), self.cache.shard_path(self.shard, name))
        record = ShardRecord(shard=self.shard, arrays=infos, sha256=sums, excluded=excluded)
        write_text_atomic(self.cache.record_path(self.shard), record.model_dump_json())
        return record

    def discard(self) -> None:
        names = list(self.arrays)
        self.arrays.clear()
        for name in names:
            self._partial(name).unlink(missing_ok=True)


def _final_shape(records: list[ShardRecord], name: str, samples: int) -> tuple[int, ...]:
    first = records[0].arrays[name]
    shape = list(first.shape)
    shape[first.sample_axis] = samples
    for record in records:
        other = list(record.arrays[name].shape)
        other[first.sample_axis] = samples
        if other != shape or record.arrays[name].dtype != first.dtype:
            raise FeatureCacheError(
                f"shard {record.shard.index} of {name} has shape {record.arrays[name].shape}, "
                f"unlike shard 0 ({first.shape})",
                hint="the encoder changed mid-extraction: extract again with --force",
            )
    return tuple(shape)


def _consolidate(cache: CacheDir, name: str, records: list[ShardRecord], samples: int) -> None:
    axis = records[0].arrays[name].sample_axis
    shape = _final_shape(records, name, samples)
    with atomic_path(cache.array_path(name)) as temporary:
        out = np.lib.format.open_memmap(
            temporary, mode="w+", dtype=records[0].arrays[name].dtype, shape=shape
        )
        reserve(temporary)
        for record in records:
            data = np.load(cache.shard_path(record.shard, name), mmap_mode="r")
            if sha256_region(data, axis, 0, record.shard.size) != record.sha256[name]:
                cache.drop_shard(record.shard)
                raise FeatureCacheError(
                    f"shard {record.shard.index} of feature cache {cache.key} was corrupted on "
                    "disk and has been removed",
                    hint=resume_hint(cache.record().command) + " (it recomputes that shard)",
                )
            index = (slice(None),) * axis + (slice(record.shard.start, record.shard.stop),)
            out[index] = data
        out.flush()
        del out


def finalize(cache: CacheDir, sample_ids: list[str], extraction: dict[str, Any]) -> CacheMetadata:
    """Every shard is done: write the final arrays, metadata and marker; drop the shards."""
    record = cache.record()
    done = cache.done_shards()
    records = [done[shard.index] for shard in record.plan.shards()]
    names = list(records[0].arrays)
    for name in names:
        _consolidate(cache, name, records, record.plan.samples)
    samples_text = json.dumps(sample_ids)
    write_text_atomic(cache.path / SAMPLES_FILE, samples_text)
    arrays = {
        name: ArrayInfo(
            shape=_final_shape(records, name, record.plan.samples),
            dtype=records[0].arrays[name].dtype,
            sample_axis=records[0].arrays[name].sample_axis,
        )
        for name in names
    }
    metadata = CacheMetadata(
        **record.model_dump(),
        arrays=arrays,
        shards=records,
        excluded={sid: why for shard in records for sid, why in shard.excluded.items()},
        sample_ids_sha256=hashlib.sha256(samples_text.encode()).hexdigest(),
        extraction=extraction,
    )
    text = metadata.model_dump_json(indent=2)
    write_text_atomic(cache.path / METADATA_FILE, text)
    write_text_atomic(cache.path / MARKER_FILE, hashlib.sha256(text.encode()).hexdigest() + "\n")
    shutil.rmtree(cache.shards_dir, ignore_errors=True)
    return metadata


@dataclass(frozen=True)
class _Loaded:
    metadata: CacheMetadata
    arrays: dict[str, np.memmap]
    sample_ids: np.ndarray


def _load(cache_dir: Path, key: str) -> _Loaded:
    cache = CacheDir(cache_dir, key)
    metadata = cache.metadata()
    arrays = {}
    for name, info in metadata.arrays.items():
        try:
            array = np.load(cache.array_path(name), mmap_mode="r")
        except (OSError, ValueError) as error:
            raise FeatureCacheError(
                f"feature cache {key}: {name}.npy is missing or truncated ({error})",
                hint=f"run `radsweep features verify {key} --repair`, then "
                + resume_hint(metadata.command),
            ) from error
        if array.shape != info.shape or str(array.dtype) != info.dtype:
            raise FeatureCacheError(
                f"feature cache {key}: {name}.npy is {array.shape} {array.dtype}, "
                f"metadata says {info.shape} {info.dtype}",
                hint=f"run `radsweep features verify {key} --repair`",
            )
        _checked_finite(cache.array_path(name), array, info.sample_axis, key)
        arrays[name] = array
    return _Loaded(metadata, arrays, np.asarray(_sample_ids(cache, metadata), dtype=object))


def _sample_ids(cache: CacheDir, metadata: CacheMetadata) -> list[str]:
    """sample_ids.json, checked against the checksum metadata.json holds for it."""
    path = cache.path / SAMPLES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        text, why = "", str(error)
    else:
        why = "its checksum differs from metadata.json"
    if hashlib.sha256(text.encode()).hexdigest() != metadata.sample_ids_sha256:
        raise FeatureCacheError(
            f"feature cache {cache.key}: {path} is missing or damaged ({why})",
            hint=f"run `radsweep features verify {cache.key} --repair`, then "
            + resume_hint(metadata.command),
        )
    return json.loads(text)


def _checked_finite(path: Path, array: np.ndarray, axis: int, key: str) -> None:
    """``require_finite`` once per process for each unchanged file: a sweep worker opens the
    same cache for every run, and a large cache takes a while to read."""
    status = path.stat()
    stamp = (str(path), status.st_ino, status.st_size, status.st_mtime_ns)
    if stamp not in _finite_files:
        require_finite(array, axis, f"feature cache {key}: {path.name}", key)
        _finite_files.add(stamp)


def _all_finite(values: np.ndarray) -> bool:
    """fp16 by its exponent bits (all ones: inf or NaN), several times faster than isfinite."""
    if values.dtype == np.float16:
        return not bool(((values.view(np.uint16) & _FP16_EXPONENT) == _FP16_EXPONENT).any())
    return bool(np.isfinite(values).all())


def require_finite(array: np.ndarray, axis: int, what: str, key: str) -> None:
    """Fail on any NaN/inf, reading ``array`` a slab of samples at a time (it may be large).

    A NaN token would train, lower the AUCs and be stored under the clean cache's run key.
    """
    step = max(1, _FINITE_CHUNK // max(1, array[(slice(None),) * axis + (slice(0, 1),)].nbytes))
    for start in range(0, array.shape[axis], step):
        slab = array[(slice(None),) * axis + (slice(start, start + step),)]
        if np.issubdtype(slab.dtype, np.floating) and not _all_finite(slab):
            raise FeatureCacheError(
                f"{what} holds NaN/inf values (samples {start}-{start + slab.shape[axis] - 1})",
                hint=f"run `radsweep features verify {key} --repair` and extract it again",
            )


@dataclass(frozen=True)
class _Features:
    key: str
    sample_ids: np.ndarray  # [N] manifest order (sorted by sample_id)
    excluded: dict[str, str]  # sample_id -> reason; their rows hold zeros
    metadata: CacheMetadata

    @property
    def valid(self) -> np.ndarray:
        """Boolean ``[N]``: False for the excluded samples."""
        return ~pd.Index(self.sample_ids).isin(list(self.excluded))

    def rows(self, sample_ids: np.ndarray | list[str] | pd.Series) -> np.ndarray:
        """Row positions of ``sample_ids``; unknown or excluded ids are an error."""
        positions = pd.Index(self.sample_ids).get_indexer(pd.Index(sample_ids))
        if (positions < 0).any():
            raise FeatureCacheError(
                f"{int((positions < 0).sum())} requested sample(s) are not in cache {self.key}",
                hint="the cache was built from another manifest: extract features for this task",
            )
        if excluded := [sid for sid in sample_ids if sid in self.excluded]:
            raise FeatureCacheError(
                f"{len(excluded)} requested sample(s) were excluded from cache {self.key} "
                "as bad images",
                hint="drop them from the selection (features.valid marks usable rows)",
            )
        return positions


@dataclass(frozen=True)
class ImageFeatures(_Features):
    """``tokens`` ``[V, N, T, D]`` and ``cls`` ``[V, N, D]`` (or None), fp16 memory maps."""

    tokens: np.memmap
    cls: np.memmap | None

    @property
    def spec(self) -> ImageCacheSpec:
        assert isinstance(self.metadata.spec, ImageCacheSpec)
        return self.metadata.spec


@dataclass(frozen=True)
class TextFeatures(_Features):
    """``tokens`` ``[N, L, D]`` fp16 and the attention ``mask`` ``[N, L]`` bool, memory maps."""

    tokens: np.memmap
    mask: np.memmap

    @property
    def spec(self) -> TextCacheSpec:
        assert isinstance(self.metadata.spec, TextCacheSpec)
        return self.metadata.spec


def _kind_error(key: str, kind: str) -> FeatureCacheError:
    return FeatureCacheError(
        f"feature cache {key} is not a {kind} cache", hint="list caches with `radsweep features ls`"
    )


def load_image_features(cache_dir: Path, key: str) -> ImageFeatures:
    """Open a complete image cache (``cache_dir`` is Settings.cache) without reading it."""
    loaded = _load(cache_dir, key)
    if loaded.metadata.spec.kind != "image":
        raise _kind_error(key, "image")
    return ImageFeatures(
        key=key,
        sample_ids=loaded.sample_ids,
        excluded=loaded.metadata.excluded,
        metadata=loaded.metadata,
        tokens=loaded.arrays["tokens"],
        cls=loaded.arrays.get("cls"),
    )


def load_text_features(cache_dir: Path, key: str) -> TextFeatures:
    """Open a complete report cache (``cache_dir`` is Settings.cache) without reading it."""
    loaded = _load(cache_dir, key)
    if loaded.metadata.spec.kind != "text":
        raise _kind_error(key, "text")
    return TextFeatures(
        key=key,
        sample_ids=loaded.sample_ids,
        excluded=loaded.metadata.excluded,
        metadata=loaded.metadata,
        tokens=loaded.arrays["tokens"],
        mask=loaded.arrays["mask"],
    )


def list_caches(cache_dir: Path) -> list[CacheDir]:
    """Every cache folder (complete or not) under ``cache_dir/features``, sorted by key."""
    root = cache_dir / FEATURES
    if not root.is_dir():
        return []
    return [CacheDir(cache_dir, path.parent.name) for path in sorted(root.glob(f"*/{SPEC_FILE}"))]
