"""Reading refuses what it cannot trust: NaN tokens, a damaged sample list; the finite check
is recorded beside the cache, so an unchanged cache is not read again for it."""

import os
from pathlib import Path

import numpy as np
import pytest

from radsweep.errors import FeatureCacheError
from radsweep.features import finite, reading
from radsweep.features.finite import FINITE_FILE, FileStamp
from radsweep.features.layout import CacheDir
from radsweep.features.reading import load_image_features, require_finite
from tests.features.doubles import poison


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of samples each finite check reads, per call, in a process that has checked
    nothing yet (each load below stands for a new run process)."""
    calls: list[int] = []
    original = finite.nonfinite_samples

    def counting(array: np.ndarray, axis: int) -> tuple[int, int] | None:
        calls.append(array.shape[axis])
        return original(array, axis)

    monkeypatch.setattr(reading, "nonfinite_samples", counting)
    monkeypatch.setattr(reading, "_finite_files", set())
    return calls


def _new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "_finite_files", set())


def test_extraction_records_its_arrays_finite_so_runs_never_read_them(
    built: CacheDir, cache_dir: Path, checked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (built.path / FINITE_FILE).is_file()
    load_image_features(cache_dir, built.key)
    _new_process(monkeypatch)
    assert load_image_features(cache_dir, built.key).tokens.shape[1] == 20
    assert checked == []


def test_a_cache_without_a_record_is_checked_once_then_recorded(
    built: CacheDir, cache_dir: Path, checked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a cache extracted by an older radsweep, or copied from elsewhere, is read."""
    (built.path / FINITE_FILE).unlink()
    load_image_features(cache_dir, built.key)
    assert checked == [20, 20]  # tokens and cls, every sample
    assert (built.path / FINITE_FILE).is_file()
    _new_process(monkeypatch)
    load_image_features(cache_dir, built.key)
    assert checked == [20, 20]  # the second run read nothing for the check


def test_a_file_rewritten_in_place_is_checked_again_even_with_its_mtime_put_back(
    built: CacheDir, cache_dir: Path, checked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = built.array_path("tokens")
    before = path.stat()
    poison(path, [5])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    _new_process(monkeypatch)
    with pytest.raises(FeatureCacheError, match=r"tokens\.npy holds NaN/inf values \(samples"):
        load_image_features(cache_dir, built.key)
    assert checked == [20]


def test_a_replaced_array_and_a_new_extraction_are_checked_again(
    built: CacheDir, cache_dir: Path, checked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = built.array_path("cls")
    np.save(path.with_name("copy.npy"), np.load(path))
    os.replace(path.with_name("copy.npy"), path)  # same bytes, another file: checked again
    load_image_features(cache_dir, built.key)
    assert checked == [20]
    (built.path / "COMPLETE").write_text("0" * 64 + "\n")  # a marker this record never saw
    assert finite.recorded_finite(built) == set()


def test_a_stamp_from_the_tick_its_record_was_written_in_is_not_trusted(
    built: CacheDir, cache_dir: Path, checked: list[int]
) -> None:
    """A change in the same file-clock tick as the record could leave the stamp as it was."""
    ctime = min(FileStamp.of(built.array_path(name)).ctime_ns for name in ("tokens", "cls"))
    os.utime(built.path / FINITE_FILE, ns=(ctime, ctime))  # as if written in that tick
    assert finite.recorded_finite(built) == set()
    load_image_features(cache_dir, built.key)
    assert checked == [20, 20]
    assert finite.recorded_finite(built) == {"tokens", "cls"}  # written again, a tick later


def test_a_cache_folder_that_cannot_be_written_is_still_checked(
    built: CacheDir, cache_dir: Path, checked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    (built.path / FINITE_FILE).unlink()

    def refuse(target: Path, text: str) -> None:
        raise PermissionError(13, "read-only", str(target))

    monkeypatch.setattr(finite, "write_text_atomic", refuse)
    load_image_features(cache_dir, built.key)
    assert checked == [20, 20] and not (built.path / FINITE_FILE).exists()
    poison(built.array_path("tokens"), [0])
    _new_process(monkeypatch)
    with pytest.raises(FeatureCacheError, match=r"tokens\.npy holds NaN/inf"):
        load_image_features(cache_dir, built.key)


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
