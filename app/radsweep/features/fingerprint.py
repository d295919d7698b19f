"""A content fingerprint of a task's image files, so a cache is keyed by the pixels it holds.

Sample ids and relative paths name files, not pixels: a re-export or another hospital's copy of a
task can share both, and an image can be edited in place. Each file contributes its size and the
sha256 of all its bytes (hashlib's sha256 runs at about 0.6 GB/s on one core here, about 1.6 ms
for a 1 MB radiograph once it is in the page cache: less than decoding it), so any changed byte
gives another key, while an identical copy in another folder keeps it. Modification times stay
out of the key (a copy or a checkout would otherwise orphan every cache); they only memoise a
file's digest, by (path, size, mtime, ctime, inode), so a process reads each image once.
"""

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ABSENT = "absent"
_THREADS = 16
_RACY_NS = 2_000_000_000
"""A file changed this recently could change again within one timestamp tick, unseen by its
stat: it is not memoised (git's "racily clean" rule)."""
_memo: dict[tuple[str, int, int, int, int], str] = {}


def file_fingerprint(path: Path) -> str:
    """``size:sha256-of-the-file`` (memoised while the file is unchanged)."""
    try:
        status = os.stat(path)
    except OSError:
        return ABSENT  # a missing image is part of what the cache holds (an exclusion)
    memo_key = (str(path), status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    if (known := _memo.get(memo_key)) is not None:
        return known
    try:
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ABSENT
    value = f"{status.st_size}:{digest}"
    if time.time_ns() - status.st_ctime_ns > _RACY_NS:
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
