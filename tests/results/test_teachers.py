"""Kept teachers are listed with their caches' state; pruning drops those whose caches are gone."""

import json
from pathlib import Path

from radsweep.features.layout import MARKER_FILE, CacheDir
from radsweep.results.store import ResultsStore
from radsweep.results.teachers import kept_teachers, prune_teachers
from tests.results import sweep


def _complete(cache_dir: Path, key: str) -> None:
    folder = CacheDir(cache_dir, key).path
    folder.mkdir(parents=True)
    (folder / MARKER_FILE).write_text("digest\n")


def test_pruning_removes_only_teachers_whose_caches_are_gone(tmp_path: Path) -> None:
    store, cache = ResultsStore(tmp_path / "results.sqlite"), tmp_path / "cache"
    identity = json.dumps({"task": "synth-age", "backbone": "c2l", "method": "distill"})
    store.record_teacher("kept", identity, ["image", "text"], sweep.teacher_record())
    store.record_teacher("orphan", identity, ["image", "old-text"], sweep.teacher_record())
    _complete(cache, "image")
    _complete(cache, "text")
    CacheDir(cache, "old-text").path.mkdir(parents=True)  # started, never completed
    listed = {teacher.key: teacher for teacher in kept_teachers(store, cache)}
    assert listed["kept"].caches_present and not listed["orphan"].caches_present
    assert listed["kept"].method == "distill" and listed["kept"].bytes > 0
    removed = prune_teachers(store, cache)
    assert [teacher.key for teacher in removed] == ["orphan"]
    assert store.teachers()["teacher_key"].tolist() == ["kept"]
    assert store.teacher("kept") is not None
