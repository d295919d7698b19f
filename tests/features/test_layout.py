"""A cache folder's state is read defensively: a damaged spec is named, a truncated shard redone."""

from pathlib import Path

import numpy as np
import pytest

from radsweep.errors import FeatureCacheError
from radsweep.features.extract import extract_image_features
from radsweep.features.layout import CacheDir
from radsweep.features.listing import list_caches
from radsweep.features.reading import load_image_features
from radsweep.tasks.manifest import Manifest
from tests.features.doubles import BUILD_OPTIONS, SimulatedKill, TinyImageEncoder


def test_a_damaged_spec_names_its_file(built: CacheDir, cache_dir: Path) -> None:
    (built.path / "spec.json").write_text('{"key": ')
    [listed] = list_caches(cache_dir)
    with pytest.raises(FeatureCacheError, match=r"spec\.json is unreadable or damaged") as caught:
        listed.record()
    assert str(built.path) in (caught.value.hint or "")


def test_a_truncated_committed_shard_is_recomputed_on_resume(
    task: Manifest, cache_dir: Path
) -> None:
    with pytest.raises(SimulatedKill):
        extract_image_features(
            TinyImageEncoder(fail_after=4), task, cache_dir, options=BUILD_OPTIONS
        )
    [cache] = list_caches(cache_dir)
    shard = cache.done_shards()[1].shard
    path = cache.shard_path(shard, "tokens")
    path.write_bytes(path.read_bytes()[:-100])  # a crash of the disk, not of radsweep
    (cache.shards_dir / "000000.json").write_text("{")  # and a damaged commit record
    encoder = TinyImageEncoder()
    result = extract_image_features(encoder, task, cache_dir, options=BUILD_OPTIONS)
    assert result.computed_shards == 3 and encoder.calls == 5
    reference = extract_image_features(
        TinyImageEncoder(), task, cache_dir.parent / "ref", options=BUILD_OPTIONS
    )
    loaded = load_image_features(cache_dir, result.key)
    expected = load_image_features(cache_dir.parent / "ref", reference.key)
    np.testing.assert_array_equal(loaded.tokens, expected.tokens)
