import json
from pathlib import Path

import numpy as np
import pytest

from radsweep.errors import FeatureCacheError
from radsweep.features.extract import ExtractOptions, extract_image_features
from radsweep.features.layout import CacheDir
from radsweep.features.reading import load_image_features
from radsweep.features.verify import repair_cache, verify_cache
from radsweep.tasks.manifest import Manifest
from tests.features.doubles import SimulatedKill, TinyImageEncoder

OPTIONS = ExtractOptions(batch_size=4, shard_size=8, workers=0, command="radsweep features x")


def _flip(path: Path, offset_from_end: int) -> None:
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def built(task: Manifest, cache_dir: Path) -> CacheDir:
    key = extract_image_features(TinyImageEncoder(), task, cache_dir, options=OPTIONS).key
    return CacheDir(cache_dir, key)


def test_a_sound_cache_verifies(built: CacheDir, cache_dir: Path) -> None:
    result = verify_cache(cache_dir, built.key)
    assert result.ok and result.complete and result.shards == 3


def test_a_flipped_byte_is_located_and_repaired_by_recomputing_one_shard(
    built: CacheDir, task: Manifest, cache_dir: Path
) -> None:
    original = built.array_path("tokens").read_bytes()
    # The last sample (row 19) lies in shard 2 (samples 16-19).
    _flip(built.array_path("tokens"), 10)
    load_image_features(cache_dir, built.key)  # opening is cheap and does not hash
    result = verify_cache(cache_dir, built.key)
    assert not result.ok and result.bad_shards == {2}
    assert result.problems == ["tokens.npy: samples 16-19 (shard 2) fail their checksum"]

    repaired = repair_cache(cache_dir, built.key)
    assert (repaired.kept, repaired.dropped) == (2, 1)
    assert not built.is_complete() and sorted(built.done_shards()) == [0, 1]
    with pytest.raises(FeatureCacheError, match=r"incomplete \(2/3 shards\)") as caught:
        load_image_features(cache_dir, built.key)
    assert caught.value.hint == "run `radsweep features x` again to resume"

    encoder = TinyImageEncoder()
    extract_image_features(encoder, task, cache_dir, options=OPTIONS)
    assert encoder.calls == 1  # shard 2 is one batch of four
    assert built.array_path("tokens").read_bytes() == original
    assert verify_cache(cache_dir, built.key).ok


def test_a_truncated_array_fails_to_open_with_a_repair_hint(
    built: CacheDir, cache_dir: Path
) -> None:
    path = built.array_path("cls")
    path.write_bytes(path.read_bytes()[:-64])
    with pytest.raises(FeatureCacheError, match="truncated") as caught:
        load_image_features(cache_dir, built.key)
    assert f"radsweep features verify {built.key} --repair" in (caught.value.hint or "")
    result = verify_cache(cache_dir, built.key)
    assert result.bad_shards == {0, 1, 2}
    assert repair_cache(cache_dir, built.key).kept == 0


def test_edited_metadata_breaks_the_completeness_marker(built: CacheDir, cache_dir: Path) -> None:
    metadata = built.path / "metadata.json"
    content = json.loads(metadata.read_text())
    content["excluded"] = {"s001": "edited"}
    metadata.write_text(json.dumps(content))
    with pytest.raises(FeatureCacheError, match="does not match its completeness marker"):
        load_image_features(cache_dir, built.key)
    assert not verify_cache(cache_dir, built.key).ok


def test_damaged_shards_of_an_unfinished_cache_are_dropped(task: Manifest, cache_dir: Path) -> None:
    with pytest.raises(SimulatedKill):
        extract_image_features(TinyImageEncoder(fail_after=4), task, cache_dir, options=OPTIONS)
    [key] = [path.name for path in (cache_dir / "features").iterdir()]
    cache = CacheDir(cache_dir, key)
    assert sorted(cache.done_shards()) == [0, 1]
    _flip(cache.shard_path(cache.done_shards()[1].shard, "tokens"), 3)
    result = verify_cache(cache_dir, key)
    assert not result.complete and result.bad_shards == {1}
    assert repair_cache(cache_dir, key).dropped == 1
    assert sorted(cache.done_shards()) == [0]
    encoder = TinyImageEncoder()
    extract_image_features(encoder, task, cache_dir, options=OPTIONS)
    assert encoder.calls == 3
    assert np.asarray(load_image_features(cache_dir, key).tokens).any()
