"""Resumable, verified downloads from plain ``http(s)://`` and ``file://`` links.

An interrupted download leaves ``NAME.part`` beside the target; the next call continues from its
last byte (an HTTP range request, or a seek for ``file://``). The target appears, by rename,
only once every byte is there and the SHA-256 matches, so a reader never sees half a checkpoint.
"""

import hashlib
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from radsweep.errors import WeightsError

CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60.0  # per read: a stalled server fails instead of hanging


def part_file(target: Path) -> Path:
    return target.with_name(f"{target.name}.part")


def download(url: str, target: Path, sha256: str | None = None) -> str:
    """Fetch ``url`` into ``target`` (resuming a ``.part`` file); return the file's SHA-256."""
    part = part_file(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    try:
        stream, resumed = _open(url, offset)
        with stream, part.open("ab" if resumed else "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK_BYTES)
    except (OSError, urllib.error.URLError) as error:
        got = part.stat().st_size if part.exists() else 0
        raise WeightsError(
            f"download of {url} stopped after {got / 1e6:.1f} MB ({_reason(error)})",
            hint="run the same command again to resume where it stopped",
        ) from error
    digest = file_sha256(part)
    if sha256 is not None and digest != sha256:
        part.unlink()
        raise WeightsError(
            f"{url}: downloaded file has SHA-256 {digest[:12]}…, expected {sha256[:12]}…",
            hint="the source changed or the transfer was corrupted; the partial file is removed, "
            "run the command again (or correct sha256 in the catalogue)",
        )
    os.replace(part, target)
    return digest


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _open(url: str, offset: int) -> tuple[BinaryIO, bool]:
    """The byte stream from ``offset`` on, and whether it really starts there (a resume)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        handle = Path(unquote(parsed.path)).open("rb")  # noqa: SIM115 (the caller closes it)
        handle.seek(offset)
        return handle, offset > 0
    if parsed.scheme not in {"http", "https"}:
        raise WeightsError(f"{url}: only http(s):// and file:// links can be fetched")
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        if error.code != 416:  # 416: the range starts at the end, the file is complete
            raise
        return open(os.devnull, "rb"), True
    return response, offset > 0 and response.status == 206  # 200: the server restarts


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
    return " ".join(str(reason).split())
