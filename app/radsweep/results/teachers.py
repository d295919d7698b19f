"""The teachers the store keeps, and pruning those no run can use again.

A teacher's key names the feature caches it was computed from, so once one of them is removed
(``rm -r CACHE/features/KEY`` or a new extraction under another key) no run will ask for it
again: it only takes space. ``prune_teachers`` removes exactly those.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from radsweep.features.layout import CacheDir
from radsweep.results.store import ResultsStore


@dataclass(frozen=True)
class KeptTeacher:
    """One kept teacher: its key, what it teaches (task, backbone, method), its size, and
    whether every cache it was computed from is still complete."""

    key: str
    created_at: str
    task: str
    backbone: str | None
    method: str
    cache_keys: tuple[str, ...]
    bytes: int
    caches_present: bool


def kept_teachers(store: ResultsStore, cache_dir: Path) -> list[KeptTeacher]:
    """Every teacher in ``store``, oldest first, checked against the caches under ``cache_dir``."""
    kept = []
    for row in store.teachers().to_dict("records"):
        identity = json.loads(str(row["identity"]))
        cache_keys = tuple(json.loads(str(row["cache_keys"])))
        kept.append(
            KeptTeacher(
                key=str(row["teacher_key"]),
                created_at=str(row["created_at"]),
                task=identity["task"],
                backbone=identity.get("backbone"),
                method=identity["method"],
                cache_keys=cache_keys,
                bytes=int(row["bytes"]),
                caches_present=all(CacheDir(cache_dir, key).is_complete() for key in cache_keys),
            )
        )
    return kept


def prune_teachers(store: ResultsStore, cache_dir: Path) -> list[KeptTeacher]:
    """Remove the teachers whose caches are gone; the ones removed."""
    orphans = [teacher for teacher in kept_teachers(store, cache_dir) if not teacher.caches_present]
    store.drop_teachers([teacher.key for teacher in orphans])
    return orphans
