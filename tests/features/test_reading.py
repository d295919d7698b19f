"""Reading refuses what it cannot trust: NaN tokens, a damaged sample list."""

from pathlib import Path

import numpy as np
import pytest

from radsweep.errors import FeatureCacheError
from radsweep.features.layout import CacheDir
from radsweep.features.reading import load_image_features, require_finite
from tests.features.doubles import poison


def test_nan_tokens_in_a_complete_cache_refuse_to_load(built: CacheDir, cache_dir: Path) -> None:
    poison(built.array_path("tokens"), [3, 11, 17])
    with pytest.raises(FeatureCacheError, match=r"tokens\.npy holds NaN/inf") as caught:
        load_image_features(cache_dir, built.key)
    assert f"radsweep features verify {built.key} --repair" in (caught.value.hint or "")


def test_a_cache_checked_once_is_checked_again_after_a_change(
    built: CacheDir, cache_dir: Path
) -> None:
    load_image_features(cache_dir, built.key)  # sound: remembered as checked
    poison(built.array_path("cls"), [0])
    with pytest.raises(FeatureCacheError, match=r"cls\.npy holds NaN/inf"):
        load_image_features(cache_dir, built.key)


def test_a_deleted_sample_list_is_named_with_a_repair_hint(
    built: CacheDir, cache_dir: Path
) -> None:
    (built.path / "sample_ids.json").unlink()
    with pytest.raises(FeatureCacheError, match=r"sample_ids\.json is missing or damaged"):
        load_image_features(cache_dir, built.key)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_finite_check_finds_one_bad_value_in_any_slab(bad: float) -> None:
    values = np.ones((2, 50, 3, 4), np.float16)
    require_finite(values, 1, "tokens", "k")
    values[1, 37, 2, 3] = bad
    with pytest.raises(FeatureCacheError, match=r"tokens holds NaN/inf values \(samples 0-49\)"):
        require_finite(values, 1, "tokens", "k")
