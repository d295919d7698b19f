"""A local weights file's identity: the SHA-256 the catalogue records and feature caches key on.

Hashing needs no model library, so listing the catalogue (``radsweep weights``) checks files
without importing torch.
"""

import hashlib
from pathlib import Path

from radsweep.errors import WeightsError

_HASHED_SUFFIXES = {".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".json", ".txt", ".model"}


def local_identity(path: Path) -> str:
    """``sha256:…`` of a weight file, or of a folder's weight, config and vocabulary files."""
    if path.is_file():
        return f"sha256:{_file_sha256(path)}"
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _HASHED_SUFFIXES)
    if not files:
        raise WeightsError(f"{path}: no weight files in this folder")
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.relative_to(path).as_posix()}\0{_file_sha256(file)}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
