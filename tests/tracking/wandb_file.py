"""Read an offline run's ``.wandb`` transaction log (W&B ships no reader since 0.31).

The format: a 7-byte header, then 32 KiB blocks of LevelDB-log chunks (CRC-32, length, type),
each record a ``wandb_internal_pb2.Record``. Only tests read it: the product reads W&B through
its public API.
"""

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import wandb
from wandb.proto import wandb_internal_pb2

from radsweep.tracking.reader import WandbRun

BLOCK = 32 * 1024
HEADER = 7


def records(path: Path) -> list[Any]:
    """Every record of the log, in order (checksums verified)."""
    data = path.read_bytes()
    assert data[:4] == b":W&B", path
    found, pending, offset = [], b"", HEADER
    while offset + HEADER <= len(data):
        left = BLOCK - offset % BLOCK
        if left < HEADER:
            offset += left
            continue
        checksum, length, kind = struct.unpack("<IHB", data[offset : offset + HEADER])
        payload = data[offset + HEADER : offset + HEADER + length]
        offset += HEADER + length
        if kind == 0 and length == 0:
            continue
        assert zlib.crc32(bytes([kind]) + payload) == checksum, path
        pending = payload if kind in (1, 2) else pending + payload
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            found.append(record)
    return found


def _items(items: Any) -> dict[str, Any]:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


@dataclass
class OfflineRun:
    """What an offline run logged: config, history rows, summary, artifacts, exit, preempting."""

    id: str
    group: str
    job_type: str
    name: str
    tags: list[str]
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Any] = field(default_factory=list)
    exit_code: int | None = None
    preempting: bool = False

    def as_wandb_run(self, created_at: str = "2026-01-01") -> WandbRun:
        """What the public API would return for this run once synced."""
        return WandbRun(self.id, created_at, self.config, self.summary, pd.DataFrame(self.history))


def _config(update: Any) -> dict[str, Any]:
    values = {}
    for item in update:
        value = json.loads(item.value_json)
        values[item.key or "/".join(item.nested_key)] = value
    return values


def read_run(folder: Path) -> OfflineRun:
    """The run in an ``offline-run-*`` folder (call ``wandb.teardown()`` first: W&B's service
    closes the log after ``finish`` returns)."""
    wandb.teardown()
    [path] = folder.glob("run-*.wandb")
    run: OfflineRun | None = None
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run" and run is not None:
            run.tags = list(record.run.tags) or run.tags
            run.config.update(_config(record.run.config.update))
        elif kind == "run":
            run = OfflineRun(
                record.run.run_id,
                record.run.run_group,
                record.run.job_type,
                record.run.display_name,
                list(record.run.tags),
            )
            run.config.update(_config(record.run.config.update))
        elif run is None:
            continue
        elif kind == "config":
            run.config.update(_config(record.config.update))
        elif kind == "history":
            run.history.append(_items(record.history.item))
        elif kind == "summary":
            run.summary.update(_items(record.summary.update))
        elif kind == "artifact":
            run.artifacts.append(record.artifact)
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
        elif kind == "preempting":
            run.preempting = True
    assert run is not None, folder
    return run


def offline_runs(wandb_dir: Path) -> list[OfflineRun]:
    return [read_run(folder) for folder in sorted(wandb_dir.glob("wandb/offline-run-*"))]
