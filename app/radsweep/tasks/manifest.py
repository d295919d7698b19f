"""The manifest contract between data builders and everything downstream.

A task directory holds ``manifest.parquet`` (one row per image: sample_id, image_path, report,
label, patient_id, an optional ``pool`` and any metadata columns) and ``task.json`` (the task
definition, where the images live, and how the builder made them). Validation is strict and its
errors name row numbers, never identifiers or report text, because manifests hold patient data.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radsweep.atomic import write_atomic, write_text_atomic
from radsweep.errors import ManifestError
from radsweep.tasks.spec import FixedPoolSplit, TaskSpec
from radsweep.tasks.taskfile import (
    MANIFEST_FILE,
    REQUIRED_COLUMNS,
    TASK_FILE,
    TaskFile,
    image_root,
    read_task_file,
)

__all__ = [
    "MANIFEST_FILE",
    "REQUIRED_COLUMNS",
    "TASK_FILE",
    "Manifest",
    "TaskFile",
    "image_root",
    "read_task_file",
    "validate_frame",
]
POOLS = ("train", "eval")
_SHOWN_ROWS = 5


def _rows(mask: np.ndarray | pd.Series) -> str:
    positions = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(str(position) for position in positions[:_SHOWN_ROWS])
    more = f" and {len(positions) - _SHOWN_ROWS} more" if len(positions) > _SHOWN_ROWS else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


def _escapes(path: str) -> bool:
    if not path or os.path.isabs(path):
        return True
    normal = os.path.normpath(path)
    return normal == ".." or normal.startswith(".." + os.sep)


def _check_columns(frame: pd.DataFrame, task: TaskSpec) -> None:
    required = list(REQUIRED_COLUMNS)
    if isinstance(task.split, FixedPoolSplit):
        required.append("pool")
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ManifestError(
            f"manifest lacks column(s) {', '.join(missing)}",
            hint=f"a manifest needs {', '.join(required)}",
        )


def _text(series: pd.Series) -> pd.Series:
    return series.map(lambda value: "" if pd.isna(value) else str(value))


def _label_problems(labels: pd.Series, task: TaskSpec) -> tuple[list[str], pd.Series]:
    numeric = pd.to_numeric(labels, errors="coerce")
    problems = []
    missing = numeric.isna()
    if missing.any():
        problems.append(f"{_rows(missing)}: label is missing or not a number")
    valid = numeric[~missing]
    outside = (valid != np.floor(valid)) | (valid < 0) | (valid >= task.n_classes)
    if outside.any():
        problems.append(
            f"{_rows(~missing & outside.reindex(labels.index, fill_value=False))}: label is not "
            f"a class index 0..{task.n_classes - 1} of {list(task.classes)}"
        )
    return problems, numeric.fillna(-1).astype("int64")


def _pool_problems(frame: pd.DataFrame) -> list[str]:
    pools = _text(frame["pool"])
    unknown = ~pools.isin(POOLS)
    problems = []
    if unknown.any():
        problems.append(f"{_rows(unknown)}: pool must be one of {', '.join(POOLS)}")
    per_patient = pools[~unknown].groupby(frame["patient_id"][~unknown]).nunique()
    straddling = frame["patient_id"].isin(per_patient.index[per_patient > 1])
    if straddling.any():
        problems.append(f"{_rows(straddling)}: patient has images in both pools")
    return problems


def validate_frame(
    frame: pd.DataFrame, task: TaskSpec, image_root: Path, check_images: bool = True
) -> pd.DataFrame:
    """Return the manifest normalised (text ids, int labels, sorted by sample_id) or raise."""
    _check_columns(frame, task)
    frame = frame.reset_index(drop=True).copy()
    for column in ("sample_id", "image_path", "report", "patient_id"):
        frame[column] = _text(frame[column])
    problems = []
    if (empty_ids := frame["sample_id"].str.strip() == "").any():
        problems.append(f"{_rows(empty_ids)}: sample_id is empty")
    if (duplicates := frame["sample_id"].duplicated(keep=False)).any():
        problems.append(f"{_rows(duplicates)}: sample_id is not unique")
    if (no_patient := frame["patient_id"].str.strip() == "").any():
        problems.append(f"{_rows(no_patient)}: patient_id is empty")
    label_problems, frame["label"] = _label_problems(frame["label"], task)
    problems += label_problems
    if task.requires_reports and (no_report := frame["report"].str.strip() == "").any():
        problems.append(f"{_rows(no_report)}: report is empty but task {task.name} needs reports")
    escaping = frame["image_path"].map(_escapes)
    if escaping.any():
        problems.append(
            f"{_rows(escaping)}: image_path is empty, absolute or leaves the image root "
            f"(use a path relative to {image_root})"
        )
    if check_images:
        absent = ~escaping & ~frame["image_path"].map(lambda p: (image_root / p).is_file())
        if absent.any():
            problems.append(f"{_rows(absent)}: image file not found under {image_root}")
    if isinstance(task.split, FixedPoolSplit):
        problems += _pool_problems(frame)
    if problems:
        raise ManifestError(
            f"invalid manifest for task {task.name}: " + "; ".join(problems),
            hint="fix those rows (row numbers count from 0 in manifest.parquet) and rebuild it",
        )
    return frame.sort_values("sample_id", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Manifest:
    """A validated task directory: the task, its rows sorted by sample_id, and its images."""

    directory: Path
    info: TaskFile
    frame: pd.DataFrame

    @property
    def task(self) -> TaskSpec:
        return self.info.task

    @property
    def image_root(self) -> Path:
        return image_root(self.directory, self.info)

    def image_paths(self) -> list[Path]:
        return [self.image_root / path for path in self.frame["image_path"]]

    def image_list_hash(self) -> str:
        """A digest of (sample_id, image_path) pairs: the feature cache keys on it."""
        digest = hashlib.sha256()
        for sample_id, path in zip(self.frame["sample_id"], self.frame["image_path"], strict=True):
            digest.update(f"{sample_id}\0{path}\n".encode())
        return digest.hexdigest()

    @classmethod
    def load(cls, directory: Path, check_images: bool = True) -> "Manifest":
        """Read and validate a task directory."""
        info = read_task_file(directory)
        table = directory / MANIFEST_FILE
        if not table.is_file():
            raise ManifestError(
                f"no {MANIFEST_FILE} in {directory}",
                hint=f"build it (radsweep data build), or write one with columns "
                f"{', '.join(REQUIRED_COLUMNS)}",
            )
        try:
            frame = pd.read_parquet(table)
        except (OSError, ValueError) as error:
            raise ManifestError(
                f"cannot read {table}: {error}", hint="rebuild the manifest"
            ) from error
        frame = validate_frame(frame, info.task, image_root(directory, info), check_images)
        return cls(directory, info, frame)

    @classmethod
    def write(
        cls, directory: Path, frame: pd.DataFrame, info: TaskFile, check_images: bool = True
    ) -> "Manifest":
        """Validate, then write manifest.parquet and task.json atomically."""
        frame = validate_frame(frame, info.task, image_root(directory, info), check_images)
        write_atomic(directory / MANIFEST_FILE, lambda path: frame.to_parquet(path, index=False))
        write_text_atomic(directory / TASK_FILE, info.model_dump_json(indent=2) + "\n")
        return cls(directory, info, frame)
