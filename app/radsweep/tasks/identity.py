"""A task's identity: its name and a digest of its data.

Two benchmarks may name a task alike (``data synth --out`` with other parameters writes
``synth-prognostic`` again); their runs must never be drawn together. Each stored run records the
digest of the task folder it trained on, and a report selects rows by it.
"""

import hashlib
from pathlib import Path

from radsweep.tasks.manifest import MANIFEST_FILE, TASK_FILE

DIGEST_LENGTH = 12  # hex digits: short enough for tables, far beyond accidental collisions


def task_digest(directory: Path) -> str:
    """The sha256 of ``task.json`` and ``manifest.parquet`` (labels, reports, patients, image
    paths), cut to ``DIGEST_LENGTH``: hashing the files is cheap, so it runs on every lookup."""
    digest = hashlib.sha256()
    for name in (TASK_FILE, MANIFEST_FILE):
        with (directory / name).open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()[:DIGEST_LENGTH]
