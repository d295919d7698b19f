"""Listing: every cache under the folder, with a state a person can act on."""

from pathlib import Path

import pytest

from radsweep.features.extract import ExtractOptions, extract_image_features
from radsweep.features.listing import cache_statuses
from radsweep.tasks.manifest import Manifest
from tests.features.doubles import SimulatedKill, TinyImageEncoder

OPTIONS = ExtractOptions(batch_size=4, shard_size=8, workers=0)


def test_an_interrupted_cache_shows_its_finished_shards(task: Manifest, cache_dir: Path) -> None:
    with pytest.raises(SimulatedKill):
        extract_image_features(TinyImageEncoder(fail_after=4), task, cache_dir, options=OPTIONS)
    [row] = cache_statuses(cache_dir)
    assert (row.kind, row.views, row.pool, row.samples) == ("image", 1, 1, 20)
    assert not row.complete and row.state == "2/3 shards"


def test_a_complete_cache_with_damaged_metadata_asks_for_verify(
    task: Manifest, cache_dir: Path
) -> None:
    key = extract_image_features(TinyImageEncoder(), task, cache_dir, options=OPTIONS).key
    (cache_dir / "features" / key / "metadata.json").write_text("{}")
    [row] = cache_statuses(cache_dir)
    assert row.complete and row.state == "damaged: run verify"


def test_no_folder_lists_nothing(tmp_path: Path) -> None:
    assert cache_statuses(tmp_path / "nowhere") == []
