"""Export the results store's tables to parquet or CSV, for pandas, R or a spreadsheet."""

from enum import StrEnum
from functools import partial
from pathlib import Path

from radsweep.atomic import write_atomic
from radsweep.results.frames import ResultFrames


class ExportFormat(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"


def export_tables(
    frames: ResultFrames, out_dir: Path, fmt: ExportFormat = ExportFormat.PARQUET
) -> list[Path]:
    """Write ``runs``, ``seed_metrics`` and ``curves`` to ``out_dir`` (each file atomically)."""
    fmt = ExportFormat(fmt)
    written = []
    for name, frame in frames.tables().items():
        target = out_dir / f"{name}.{fmt.value}"
        if fmt is ExportFormat.PARQUET:
            write_atomic(target, partial(frame.to_parquet, index=False))
        else:
            write_atomic(target, partial(frame.to_csv, index=False))
        written.append(target)
    return written
