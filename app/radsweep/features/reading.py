"""Opening a complete feature cache as memory maps, checked before training reads a byte.

Shapes and dtypes are checked against metadata.json, the sample list against its checksum, and
every value for NaN/inf (once per unchanged file: ``finite`` records the check beside the
cache): a damaged cache fails loudly rather than training on wrong numbers.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radsweep.errors import FeatureCacheError
from radsweep.features.finite import FileStamp, nonfinite_samples, record_finite, recorded_finite
from radsweep.features.keys import ImageCacheSpec, TextCacheSpec
from radsweep.features.layout import SAMPLES_FILE, CacheDir, resume_hint
from radsweep.features.records import ArrayInfo, CacheMetadata

# Files found finite by this process, for caches whose folder cannot hold the record.
_finite_files: set[tuple[str, FileStamp]] = set()


@dataclass(frozen=True)
class _Loaded:
    metadata: CacheMetadata
    arrays: dict[str, np.memmap]
    sample_ids: np.ndarray


def _load(cache_dir: Path, key: str) -> _Loaded:
    cache = CacheDir(cache_dir, key)
    metadata = cache.metadata()
    stamps, arrays = {}, {}
    for name, info in metadata.arrays.items():
        stamps[name], arrays[name] = _open(cache, name, info, metadata)
    _check_finite(cache, arrays, stamps, metadata)
    return _Loaded(metadata, arrays, np.asarray(_sample_ids(cache, metadata), dtype=object))


def _open(
    cache: CacheDir, name: str, info: ArrayInfo, metadata: CacheMetadata
) -> tuple[FileStamp, np.memmap]:
    """One array as a memory map, with its file's stamp taken before it was opened."""
    try:
        stamp = FileStamp.of(cache.array_path(name))
        array = np.load(cache.array_path(name), mmap_mode="r")
    except (OSError, ValueError) as error:
        raise FeatureCacheError(
            f"feature cache {cache.key}: {name}.npy is missing or truncated ({error})",
            hint=f"run `radsweep features verify {cache.key} --repair`, then "
            + resume_hint(metadata.command),
        ) from error
    if array.shape != info.shape or str(array.dtype) != info.dtype:
        raise FeatureCacheError(
            f"feature cache {cache.key}: {name}.npy is {array.shape} {array.dtype}, "
            f"metadata says {info.shape} {info.dtype}",
            hint=f"run `radsweep features verify {cache.key} --repair`",
        )
    return stamp, array


def _check_finite(
    cache: CacheDir,
    arrays: dict[str, np.memmap],
    stamps: dict[str, FileStamp],
    metadata: CacheMetadata,
) -> None:
    """``require_finite`` on each array not recorded finite as its file is now, then the
    record of all of them: a sweep runs many processes on the same caches, and reading every
    cache in each of them took longer than the runs' own reads."""
    known = recorded_finite(cache)
    fresh = [
        name
        for name in arrays
        if name not in known and (str(cache.array_path(name)), stamps[name]) not in _finite_files
    ]
    if not fresh:
        return
    for name in fresh:
        axis = metadata.arrays[name].sample_axis
        require_finite(arrays[name], axis, f"feature cache {cache.key}: {name}.npy", cache.key)
        _finite_files.add((str(cache.array_path(name)), stamps[name]))
    record_finite(cache, stamps)


def _sample_ids(cache: CacheDir, metadata: CacheMetadata) -> list[str]:
    """sample_ids.json, checked against the checksum metadata.json holds for it."""
    path = cache.path / SAMPLES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        text, why = "", str(error)
    else:
        why = "its checksum differs from metadata.json"
    if hashlib.sha256(text.encode()).hexdigest() != metadata.sample_ids_sha256:
        raise FeatureCacheError(
            f"feature cache {cache.key}: {path} is missing or damaged ({why})",
            hint=f"run `radsweep features verify {cache.key} --repair`, then "
            + resume_hint(metadata.command),
        )
    return json.loads(text)


def require_finite(array: np.ndarray, axis: int, what: str, key: str) -> None:
    """Fail on any NaN/inf, reading ``array`` a slab of samples at a time (it may be large).

    A NaN token would train, lower the AUCs and be stored under the clean cache's run key.
    """
    if (bad := nonfinite_samples(array, axis)) is not None:
        raise FeatureCacheError(
            f"{what} holds NaN/inf values (samples {bad[0]}-{bad[1]})",
            hint=f"run `radsweep features verify {key} --repair` and extract it again",
        )


@dataclass(frozen=True)
class _Features:
    key: str
    sample_ids: np.ndarray  # [N] manifest order (sorted by sample_id)
    excluded: dict[str, str]  # sample_id -> reason; their rows hold zeros
    metadata: CacheMetadata

    @property
    def valid(self) -> np.ndarray:
        """Boolean ``[N]``: False for the excluded samples."""
        return ~pd.Index(self.sample_ids).isin(list(self.excluded))

    def rows(self, sample_ids: np.ndarray | list[str] | pd.Series) -> np.ndarray:
        """Row positions of ``sample_ids``; unknown or excluded ids are an error."""
        positions = pd.Index(self.sample_ids).get_indexer(pd.Index(sample_ids))
        if (positions < 0).any():
            raise FeatureCacheError(
                f"{int((positions < 0).sum())} requested sample(s) are not in cache {self.key}",
                hint="the cache was built from another manifest: extract features for this task",
            )
        if excluded := [sid for sid in sample_ids if sid in self.excluded]:
            raise FeatureCacheError(
                f"{len(excluded)} requested sample(s) were excluded from cache {self.key} "
                "as bad images",
                hint="drop them from the selection (features.valid marks usable rows)",
            )
        return positions


@dataclass(frozen=True)
class ImageFeatures(_Features):
    """``tokens`` ``[V, N, T, D]`` and ``cls`` ``[V, N, D]`` (or None), fp16 memory maps."""

    tokens: np.memmap
    cls: np.memmap | None

    @property
    def spec(self) -> ImageCacheSpec:
        assert isinstance(self.metadata.spec, ImageCacheSpec)
        return self.metadata.spec


@dataclass(frozen=True)
class TextFeatures(_Features):
    """``tokens`` ``[N, L, D]`` fp16 and the attention ``mask`` ``[N, L]`` bool, memory maps."""

    tokens: np.memmap
    mask: np.memmap

    @property
    def spec(self) -> TextCacheSpec:
        assert isinstance(self.metadata.spec, TextCacheSpec)
        return self.metadata.spec


def _kind_error(key: str, kind: str) -> FeatureCacheError:
    return FeatureCacheError(
        f"feature cache {key} is not a {kind} cache", hint="list caches with `radsweep features ls`"
    )


def load_image_features(cache_dir: Path, key: str) -> ImageFeatures:
    """Open a complete image cache (``cache_dir`` is Settings.cache) without reading it."""
    loaded = _load(cache_dir, key)
    if loaded.metadata.spec.kind != "image":
        raise _kind_error(key, "image")
    return ImageFeatures(
        key=key,
        sample_ids=loaded.sample_ids,
        excluded=loaded.metadata.excluded,
        metadata=loaded.metadata,
        tokens=loaded.arrays["tokens"],
        cls=loaded.arrays.get("cls"),
    )


def load_text_features(cache_dir: Path, key: str) -> TextFeatures:
    """Open a complete report cache (``cache_dir`` is Settings.cache) without reading it."""
    loaded = _load(cache_dir, key)
    if loaded.metadata.spec.kind != "text":
        raise _kind_error(key, "text")
    return TextFeatures(
        key=key,
        sample_ids=loaded.sample_ids,
        excluded=loaded.metadata.excluded,
        metadata=loaded.metadata,
        tokens=loaded.arrays["tokens"],
        mask=loaded.arrays["mask"],
    )
