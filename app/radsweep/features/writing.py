"""Writing a feature cache: sharded crash-safe writes, then one memory-mapped array per field.

A shard's arrays grow in ``.partial`` files whose blocks are reserved up front (a full disk is an
error, not a SIGBUS), are renamed into place, and count as done only once its record is written
(atomically, last). A killed run therefore resumes at shard granularity and recomputes at most the
shards it was writing. When every shard is done they are copied into the final arrays (again
temp + rename) and the marker is written last of all.
"""

import errno
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from radsweep.atomic import atomic_path, write_text_atomic
from radsweep.errors import FeatureCacheError
from radsweep.features.finite import FileStamp, nonfinite_samples, record_finite
from radsweep.features.layout import (
    MARKER_FILE,
    METADATA_FILE,
    PARTIAL,
    SAMPLES_FILE,
    CacheDir,
    resume_hint,
)
from radsweep.features.records import ArrayInfo, CacheMetadata, Shard, ShardRecord

_HASH_CHUNK = 1 << 24


def sha256_region(array: np.ndarray, axis: int, start: int, stop: int) -> str:
    """sha256 of ``array``'s C-order bytes restricted to ``start:stop`` along ``axis``.

    A shard file and the same samples inside the final array hash alike, so one checksum per
    shard verifies both.
    """
    digest = hashlib.sha256()
    for lead in np.ndindex(*array.shape[:axis]):
        chunk = np.ascontiguousarray(array[lead][start:stop]).reshape(-1).view(np.uint8)
        for offset in range(0, chunk.size, _HASH_CHUNK):
            digest.update(chunk[offset : offset + _HASH_CHUNK].data)
    return digest.hexdigest()


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


def _consolidate(cache: CacheDir, name: str, records: list[ShardRecord], samples: int) -> bool:
    """Copy the shards of one array into its final file, each checked against its sha256;
    whether every value copied is finite (checked on the bytes just read for the checksum)."""
    axis = records[0].arrays[name].sample_axis
    finite = True
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
            finite = finite and nonfinite_samples(data, axis) is None
            index = (slice(None),) * axis + (slice(record.shard.start, record.shard.stop),)
            out[index] = data
        out.flush()
        del out
    return finite


def finalize(cache: CacheDir, sample_ids: list[str], extraction: dict[str, Any]) -> CacheMetadata:
    """Every shard is done: write the final arrays, metadata and marker, and the record of
    the arrays found finite as they were copied; drop the shards."""
    record = cache.record()
    done = cache.done_shards()
    records = [done[shard.index] for shard in record.plan.shards()]
    names = list(records[0].arrays)
    finite = [name for name in names if _consolidate(cache, name, records, record.plan.samples)]
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
    record_finite(cache, {name: FileStamp.of(cache.array_path(name)) for name in finite})
    shutil.rmtree(cache.shards_dir, ignore_errors=True)
    return metadata
