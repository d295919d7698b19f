"""Verify a feature cache against its checksums, and repair it by recomputing only what broke.

Every shard's sha256 is recorded per array, so verification names the damaged sample ranges.
Repair turns a complete cache back into shards, keeping every shard whose bytes still match and
dropping the rest; the next ``radsweep features extract`` with the same options recomputes just
those shards and writes the cache again.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from radsweep.atomic import write_atomic, write_text_atomic
from radsweep.errors import FeatureCacheError
from radsweep.features.finite import FINITE_FILE
from radsweep.features.layout import (
    MARKER_FILE,
    METADATA_FILE,
    SAMPLES_FILE,
    CacheDir,
    resume_hint,
)
from radsweep.features.listing import list_caches
from radsweep.features.records import ShardRecord
from radsweep.features.writing import sha256_region


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: the state, its problems, and the shards that need recomputing."""

    key: str
    complete: bool
    shards: int
    problems: list[str] = field(default_factory=list)
    bad_shards: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_shard_files(cache: CacheDir, record: ShardRecord) -> list[str]:
    problems = []
    for name, expected in record.sha256.items():
        path = cache.shard_path(record.shard, name)
        try:
            data = np.load(path, mmap_mode="r")
        except (OSError, ValueError):
            problems.append(f"{path.name} is missing or truncated")
            continue
        axis = record.arrays[name].sample_axis
        if (
            data.shape != record.arrays[name].shape
            or sha256_region(data, axis, 0, record.shard.size) != expected
        ):
            problems.append(f"{path.name} fails its checksum")
    return problems


def _verify_partial(cache: CacheDir, shards: int) -> Verification:
    result = Verification(cache.key, complete=False, shards=shards)
    for index, record in cache.done_shards().items():
        if problems := _check_shard_files(cache, record):
            result.problems.extend(problems)
            result.bad_shards.add(index)
    return result


def _verify_arrays(cache: CacheDir, result: Verification) -> None:
    metadata = cache.metadata()
    for name, info in metadata.arrays.items():
        try:
            array = np.load(cache.array_path(name), mmap_mode="r")
        except (OSError, ValueError):
            array = None
        if array is None or array.shape != info.shape or str(array.dtype) != info.dtype:
            result.problems.append(f"{name}.npy is missing, truncated or of the wrong shape")
            result.bad_shards.update(record.shard.index for record in metadata.shards)
            continue
        for record in metadata.shards:
            shard = record.shard
            if (
                sha256_region(array, info.sample_axis, shard.start, shard.stop)
                != (record.sha256[name])
            ):
                result.problems.append(
                    f"{name}.npy: samples {shard.start}-{shard.stop - 1} (shard {shard.index}) "
                    "fail their checksum"
                )
                result.bad_shards.add(shard.index)
    ids = (cache.path / SAMPLES_FILE).read_bytes() if (cache.path / SAMPLES_FILE).is_file() else b""
    if hashlib.sha256(ids).hexdigest() != metadata.sample_ids_sha256:
        result.problems.append(f"{SAMPLES_FILE} is missing or fails its checksum")


def verify_cache(cache_dir: Path, key: str) -> Verification:
    """Check every byte of a cache (complete or in progress) against its recorded checksums."""
    cache = CacheDir(cache_dir, key)
    shards = len(cache.record().plan.shards())
    if not cache.is_complete():
        return _verify_partial(cache, shards)
    result = Verification(key, complete=True, shards=shards)
    try:
        _verify_arrays(cache, result)
    except FeatureCacheError as error:  # metadata and marker disagree: nothing can be trusted
        result.problems.append(str(error))
        result.bad_shards.update(range(shards))
    return result


def repair_hint(cache: CacheDir) -> str:
    return f"run `radsweep features verify {cache.key} --repair`, then " + resume_hint(
        cache.record().command
    )


def _unpack(cache: CacheDir, keep: list[ShardRecord]) -> None:
    """Write the good shards of a complete cache back as shard files (the marker goes first)."""
    (cache.path / MARKER_FILE).unlink()
    for record in keep:
        for name, info in record.arrays.items():
            array = np.load(cache.array_path(name), mmap_mode="r")
            index = (slice(None),) * info.sample_axis + (
                slice(record.shard.start, record.shard.stop),
            )

            def save(path: Path, region: np.ndarray = array[index]) -> None:
                with path.open("wb") as handle:
                    np.save(handle, region)

            write_atomic(cache.shard_path(record.shard, name), save)
        write_text_atomic(cache.record_path(record.shard), record.model_dump_json())
    listed = [METADATA_FILE, SAMPLES_FILE, FINITE_FILE]
    for path in [*(cache.path / name for name in listed), *cache.path.glob("*.npy")]:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Repair:
    key: str
    kept: int
    dropped: int


def repair_cache(cache_dir: Path, key: str) -> Repair:
    """Keep what verifies, drop the rest; extraction then recomputes only the dropped shards."""
    cache = CacheDir(cache_dir, key)
    with cache.lock():
        result = verify_cache(cache_dir, key)
        if not result.complete:
            for index in result.bad_shards:
                cache.drop_shard(cache.done_shards()[index].shard)
            return Repair(key, kept=len(cache.done_shards()), dropped=len(result.bad_shards))
        if not result.ok:
            keep = []
            if len(result.bad_shards) < result.shards:  # so the metadata itself is sound
                records = cache.metadata().shards
                keep = [r for r in records if r.shard.index not in result.bad_shards]
            cache.shards_dir.mkdir(exist_ok=True)
            _unpack(cache, keep)
            return Repair(key, kept=len(keep), dropped=result.shards - len(keep))
        return Repair(key, kept=result.shards, dropped=0)


@dataclass(frozen=True)
class CacheCheck:
    """One cache's verification, and what ``--repair`` did about it."""

    verification: Verification
    repair: Repair | None = None
    resume: str | None = None  # how to recompute what the repair dropped

    @property
    def failed(self) -> bool:
        """Damaged and left as it was."""
        return not self.verification.ok and self.repair is None

    def summary(self) -> dict[str, object]:
        result = self.verification
        return {
            "key": result.key,
            "ok": result.ok,
            "complete": result.complete,
            "shards": result.shards,
            "bad_shards": sorted(result.bad_shards),
            "problems": result.problems,
            "repair": None
            if self.repair is None
            else {"kept": self.repair.kept, "dropped": self.repair.dropped, "then": self.resume},
        }


@dataclass(frozen=True)
class CacheChecks:
    """``radsweep features verify``: every cache checked, in key order."""

    cache_dir: Path
    checks: list[CacheCheck]

    def failure(self) -> FeatureCacheError | None:
        """The one error for the caches that failed and were not repaired, if any."""
        failed = [check.verification.key for check in self.checks if check.failed]
        if not failed:
            return None
        if len(failed) == 1:
            hint = repair_hint(CacheDir(self.cache_dir, failed[0]))
        else:
            hint = "run `radsweep features verify KEY --repair` for each, then its extract command"
        return FeatureCacheError(f"{len(failed)} feature cache(s) failed verification", hint=hint)


def verify_caches(cache_dir: Path, key: str | None = None, repair: bool = False) -> CacheChecks:
    """Verify one cache or all of them; with ``repair``, keep what verifies of each damaged one."""
    keys = [key] if key else [cache.key for cache in list_caches(cache_dir)]
    checks = []
    for name in keys:
        result = verify_cache(cache_dir, name)
        if result.ok or not repair:
            checks.append(CacheCheck(result))
            continue
        fixed = repair_cache(cache_dir, name)
        resume = resume_hint(CacheDir(cache_dir, name).record().command)
        checks.append(CacheCheck(result, fixed, resume))
    return CacheChecks(cache_dir, checks)
