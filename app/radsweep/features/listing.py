"""Finding the feature caches under a cache folder and saying what state each is in."""

from dataclasses import dataclass
from pathlib import Path

from radsweep.errors import FeatureCacheError
from radsweep.features.keys import ImageCacheSpec
from radsweep.features.layout import FEATURES, SPEC_FILE, CacheDir
from radsweep.features.records import CacheRecord


def list_caches(cache_dir: Path) -> list[CacheDir]:
    """Every cache folder (complete or not) under ``cache_dir/features``, sorted by key."""
    root = cache_dir / FEATURES
    if not root.is_dir():
        return []
    return [CacheDir(cache_dir, path.parent.name) for path in sorted(root.glob(f"*/{SPEC_FILE}"))]


@dataclass(frozen=True)
class CacheStatus:
    """One row of ``radsweep features ls``: what a cache holds and how far it got.

    ``kind`` and the columns after it are None for a cache whose spec.json cannot be read (the
    listing still shows it, so it can be found and removed).
    """

    key: str
    kind: str | None
    encoder: str | None
    task: str | None
    views: int | None  # image caches: the centre plus the augmented views
    pool: int | None  # image caches: the PxP pooling window (1 = off)
    samples: int | None
    state: str
    complete: bool
    bytes: int


def _state(cache: CacheDir, record: CacheRecord) -> str:
    if not cache.is_complete():
        return f"{len(cache.done_shards())}/{len(record.plan.shards())} shards"
    try:
        excluded = len(cache.metadata().excluded)
    except FeatureCacheError:
        return "damaged: run verify"
    return f"complete, {excluded} excluded" if excluded else "complete"


def cache_status(cache: CacheDir) -> CacheStatus:
    """The listing row of one cache, whatever its state."""
    size = cache.size_on_disk()
    try:
        record = cache.record()
    except FeatureCacheError:
        damaged = "damaged spec.json: remove the folder"
        return CacheStatus(cache.key, None, None, None, None, None, None, damaged, False, size)
    spec = record.spec
    return CacheStatus(
        key=cache.key,
        kind=spec.kind,
        encoder=spec.encoder,
        task=record.task,
        views=spec.views.count if isinstance(spec, ImageCacheSpec) else None,
        pool=spec.pool if isinstance(spec, ImageCacheSpec) else None,
        samples=record.plan.samples,
        state=_state(cache, record),
        complete=cache.is_complete(),
        bytes=size,
    )


def cache_statuses(cache_dir: Path) -> list[CacheStatus]:
    """Every cache under ``cache_dir`` with its state, sorted by key."""
    return [cache_status(cache) for cache in list_caches(cache_dir)]
