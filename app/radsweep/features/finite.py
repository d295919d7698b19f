"""The NaN/inf check of a complete cache, recorded beside it so that a cache is read for it once.

Non-finite features must fail a run before it trains: a NaN token would lower the AUCs and be
stored under the clean cache's run key. Reading a whole cache for that in every run process cost
more disk time than the runs' own reads, so the check is recorded in ``finite.json``: per array,
the identity its file had when it was found finite (size, mtime, ctime, inode), with the cache's
key and completeness marker. A file rewritten, truncated, replaced or copied since differs in at
least one of them (``touch`` can set mtime back, never ctime), so it is checked again; so is every
array of a cache extracted again (a new marker).

File times come from a clock that ticks every few milliseconds (every second on some file
systems), so a change within the tick the record was written in could leave a stamp as it was: a
stamp counts only when its ctime is older than the record's own mtime (git's "racily clean"
rule), and writing the record waits out that tick. Extraction records the arrays it consolidates,
having checked the very bytes it copies, so a new cache is not read again for the check.
"""

import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from radsweep.atomic import write_text_atomic
from radsweep.features.layout import MARKER_FILE, CacheDir

FINITE_FILE = "finite.json"
_CHUNK = 1 << 26  # bytes read per slab
_FP16_EXPONENT = 0x7C00
_SETTLE_S = 2.5  # longest wait for the file clock to tick (1 s on coarse file systems, 2 on FAT)
_SETTLE_POLL_S = 0.001


class FileStamp(BaseModel):
    """What tells one version of a file from another without reading it."""

    model_config = ConfigDict(frozen=True)

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> "FileStamp":
        status = path.stat()
        return cls(
            size=status.st_size,
            mtime_ns=status.st_mtime_ns,
            ctime_ns=status.st_ctime_ns,
            inode=status.st_ino,
        )


class FiniteRecord(BaseModel):
    """``finite.json``: the arrays of one complete cache found finite, as their files were."""

    key: str
    marker: str  # the COMPLETE marker's digest (of metadata.json) the arrays belong to
    arrays: dict[str, FileStamp]


def _all_finite(values: np.ndarray) -> bool:
    """fp16 by its exponent bits (all ones: inf or NaN), several times faster than isfinite."""
    if values.dtype == np.float16:
        return not bool(((values.view(np.uint16) & _FP16_EXPONENT) == _FP16_EXPONENT).any())
    return bool(np.isfinite(values).all())


def nonfinite_samples(array: np.ndarray, axis: int) -> tuple[int, int] | None:
    """The first slab of samples (first, last) holding NaN/inf, else None; ``array`` (it may be
    a large memory map) is read a slab of samples along ``axis`` at a time."""
    if not np.issubdtype(array.dtype, np.floating):
        return None
    step = max(1, _CHUNK // max(1, array[(slice(None),) * axis + (slice(0, 1),)].nbytes))
    for start in range(0, array.shape[axis], step):
        slab = array[(slice(None),) * axis + (slice(start, start + step),)]
        if not _all_finite(slab):
            return start, start + slab.shape[axis] - 1
    return None


def _marker(cache: CacheDir) -> str | None:
    try:
        return (cache.path / MARKER_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def recorded_finite(cache: CacheDir) -> set[str]:
    """The arrays whose files are exactly as they were when found finite, last changed before
    the record was written (none without a readable record for this cache's key and marker)."""
    path = cache.path / FINITE_FILE
    try:
        written = path.stat().st_mtime_ns
        record = FiniteRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return set()
    if record.key != cache.key or record.marker != _marker(cache):
        return set()
    unchanged = set()
    for name, stamp in record.arrays.items():
        try:
            if stamp.ctime_ns < written and FileStamp.of(cache.array_path(name)) == stamp:
                unchanged.add(name)
        except OSError:
            continue
    return unchanged


def record_finite(cache: CacheDir, stamps: dict[str, FileStamp]) -> None:
    """Record ``stamps`` (taken before their files were checked, so that a change during the
    check shows) as finite, atomically. Where the record cannot be written (a read-only shared
    cache, a full disk) there is none: readers check again, which is slower, never wrong."""
    marker = _marker(cache)
    if marker is None:
        return
    text = FiniteRecord(key=cache.key, marker=marker, arrays=stamps).model_dump_json(indent=2)
    newest = max((stamp.ctime_ns for stamp in stamps.values()), default=0)
    deadline = time.monotonic() + _SETTLE_S
    try:
        # Written again until the file clock has moved past the stamps (one tick, mostly).
        while True:
            write_text_atomic(cache.path / FINITE_FILE, text)
            written = (cache.path / FINITE_FILE).stat().st_mtime_ns
            if written > newest or time.monotonic() > deadline:
                return
            time.sleep(_SETTLE_POLL_S)
    except OSError:
        return
