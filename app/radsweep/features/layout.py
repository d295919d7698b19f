"""Where a feature cache lives on disk, and what state its folder is in.

Layout of ``CACHE/features/<key>/``::

    spec.json          what the cache holds (its key hashes the spec), the shard plan, the command
    shards/            while extracting: NNNNNN.<array>.npy per shard, then NNNNNN.json (the commit)
    tokens.npy, ...    when complete: fp16 arrays aligned to sample_ids.json (manifest order)
    metadata.json      shapes, per-shard sha256 of every array, exclusions, sample-id checksum
    COMPLETE           the completeness marker: the sha256 of metadata.json
    finite.json        the arrays found free of NaN/inf, as their files were (``finite``)

``CacheDir`` answers questions about one such folder (complete? which shards are done?) and takes
the writer's lock; writing, reading and listing live beside it (``writing``, ``reading``,
``listing``).
"""

import fcntl
import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from radsweep.atomic import write_text_atomic
from radsweep.errors import FeatureCacheError
from radsweep.features.records import CacheMetadata, CacheRecord, Shard, ShardRecord

FEATURES = "features"
SPEC_FILE = "spec.json"
METADATA_FILE = "metadata.json"
MARKER_FILE = "COMPLETE"
SAMPLES_FILE = "sample_ids.json"
SHARDS = "shards"
BAD_IMAGES_FILE = "bad-images.tsv"
PARTIAL = ".partial"
LOCK_FILE = ".lock"


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def resume_hint(command: str | None) -> str:
    """How to continue an interrupted extraction: the command that started it, run again."""
    again = f"`{command}`" if command else "the extract command that built it"
    return f"run {again} again to resume"


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
