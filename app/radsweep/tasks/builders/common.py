"""What the real-data builders share: checked table reads, progress hooks, seeded choices, output.

Errors name files, columns and row numbers only: the tables hold credentialed patient data.
"""

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radsweep import __version__
from radsweep.errors import RadsweepError
from radsweep.tasks.manifest import Manifest, TaskFile
from radsweep.tasks.spec import TaskSpec
from radsweep.tasks.splits import keyed_uniform

Advance = Callable[[int], None]
Progress = Callable[[str, int], Advance]
"""``progress(description, total)`` starts a step and returns ``advance(done)`` for it."""


def no_progress(description: str, total: int) -> Advance:
    """The default progress hook: report nothing."""
    return lambda done: None


class SourceError(RadsweepError):
    """A dataset copy that lacks a file or column radsweep needs, or holds an unreadable value."""


def require_file(path: Path, layout: str) -> Path:
    """``path`` if it is a file; otherwise an error naming it and the expected layout."""
    if not path.is_file():
        raise SourceError(f"missing {path}", hint=f"expected layout: {layout}")
    return path


def _separator(path: Path) -> str:
    return "\t" if ".tsv" in path.name else ","


def table_columns(path: Path, layout: str) -> list[str]:
    """The header of a CSV/TSV (gzip allowed), or an error naming the file and expected layout."""
    require_file(path, layout)
    try:
        return list(pd.read_csv(path, sep=_separator(path), nrows=0).columns)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise SourceError(
            f"cannot read {path}: {type(error).__name__}", hint=f"expected layout: {layout}"
        ) from error


def pick_column(path: Path, candidates: Iterable[str], layout: str) -> str:
    """The first of ``candidates`` that the table has (releases differ in naming)."""
    candidates = list(candidates)
    header = table_columns(path, layout)
    for name in candidates:
        if name in header:
            return name
    raise SourceError(
        f"{path} lacks a column named {' or '.join(candidates)}", hint=f"expected {layout}"
    )


def read_table(
    path: Path, columns: Iterable[str], layout: str, text_columns: Iterable[str] = ()
) -> pd.DataFrame:
    """Read the named columns of a CSV/TSV (gzip allowed), checking each one exists.

    ``text_columns`` are read as strings (ids, flags) so pandas never guesses their type.
    """
    columns = list(columns)
    missing = [column for column in columns if column not in table_columns(path, layout)]
    if missing:
        raise SourceError(
            f"{path} lacks column(s) {', '.join(missing)}",
            hint=f"expected columns {', '.join(columns)} ({layout})",
        )
    dtypes = {column: str for column in text_columns}
    try:
        return pd.read_csv(path, sep=_separator(path), usecols=columns, dtype=dtypes)
    except (OSError, ValueError) as error:
        raise SourceError(
            f"cannot read {path}: {type(error).__name__}", hint=f"expected layout: {layout}"
        ) from error


def numeric(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """A column as numbers; text that is neither a number nor blank is an error naming its rows."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        rows = ", ".join(str(row) for row in np.flatnonzero(bad.to_numpy())[:5])
        raise SourceError(
            f"{path}: column {column} holds non-numeric values (data rows {rows})",
            hint="is this the released file?",
        )
    return values


def keyed_order(namespace: str, ids: pd.Series) -> np.ndarray:
    """Positions of ``ids`` in a seeded order that depends on each id alone, not on row order."""
    return np.argsort(keyed_uniform(namespace, ids.astype(str)), kind="stable")


def existing(frame: pd.DataFrame, root: Path, column: str, progress: Progress) -> pd.Series:
    """Which rows' files exist under ``root`` (users often hold part of a dataset)."""
    advance = progress("checking files", len(frame))
    found = []
    for relative in frame[column]:
        found.append((root / relative).is_file())
        advance(1)
    return pd.Series(found, index=frame.index, dtype=bool)


class Counts(dict[str, int]):
    """How many rows each step kept or dropped: recorded in task.json and shown by the CLI."""

    def drop(self, reason: str, frame: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
        """Keep the rows where ``keep`` holds and count the others under ``reason``."""
        dropped = int((~keep).sum())
        if dropped:
            self[reason] = self.get(reason, 0) + dropped
        return frame[keep.to_numpy()]


def write_task(
    out: Path,
    frame: pd.DataFrame,
    task: TaskSpec,
    image_root: str,
    builder: dict[str, Any],
    counts: Counts,
) -> Manifest:
    """Validate and write ``out``/manifest.parquet and task.json with the builder's provenance."""
    if frame.empty:
        dropped = ", ".join(f"{reason}: {count}" for reason, count in counts.items())
        raise RadsweepError(
            f"no samples left for task {task.name} ({dropped or 'no input rows'})",
            hint="check the dataset copy and the builder's options",
        )
    provenance = {"radsweep": __version__, **builder, "counts": dict(counts)}
    info = TaskFile(task=task, image_root=image_root, builder=provenance)
    return Manifest.write(out, frame, info)
