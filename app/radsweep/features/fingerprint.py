"""A cheap content fingerprint of a task's image files, so a cache is keyed by the pixels it holds.

Sample ids and relative paths name files, not pixels: a re-export or another hospital's copy of a
task can share both. Each file contributes its size and a sha256 of up to three 4 KiB blocks
(start, middle, end; the whole file when it is small), so other pixels under the same paths give
another key, while an identical copy in another folder keeps it. Modification times stay out: a
copy or a checkout would otherwise orphan every cache. Per-file digests are memoised by
(path, size, mtime) so a sweep worker stats its images once per run instead of reading them again.
"""

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BLOCK = 4096
ABSENT = "absent"
_THREADS = 16
_memo: dict[tuple[str, int, int], str] = {}


def _blocks(size: int) -> list[int]:
    """Offsets of the sampled blocks: every byte when the file fits in three blocks."""
    if size <= 3 * BLOCK:
        return [0]
    return [0, (size - BLOCK) // 2, size - BLOCK]


def file_fingerprint(path: Path) -> str:
    """``size:sha256-of-sampled-blocks`` of one file (memoised while it is unchanged)."""
    try:
        status = os.stat(path)
    except OSError:
        return ABSENT  # a missing image is part of what the cache holds (an exclusion)
    memo_key = (str(path), status.st_size, status.st_mtime_ns)
    if (known := _memo.get(memo_key)) is not None:
        return known
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for offset in _blocks(status.st_size):
                handle.seek(offset)
                digest.update(handle.read(BLOCK if status.st_size > 3 * BLOCK else 3 * BLOCK))
    except OSError:
        return ABSENT
    value = f"{status.st_size}:{digest.hexdigest()}"
    _memo[memo_key] = value
    return value


def content_fingerprint(paths: list[Path]) -> str:
    """One digest over every file's fingerprint, in the given (manifest) order."""
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        prints = list(pool.map(file_fingerprint, paths))
    digest = hashlib.sha256()
    for value in prints:
        digest.update(f"{value}\n".encode())
    return digest.hexdigest()
