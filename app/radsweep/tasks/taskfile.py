"""``task.json``: a task directory's definition, readable without the table libraries.

Listing tasks (``radsweep data tasks``) reads only this file of each task directory, so it lives
apart from the manifest's table contract (``radsweep.tasks.manifest``), which needs pandas.
"""

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from radsweep.errors import ManifestError
from radsweep.tasks.spec import TaskSpec

MANIFEST_FILE = "manifest.parquet"
TASK_FILE = "task.json"
REQUIRED_COLUMNS = ("sample_id", "image_path", "report", "label", "patient_id")


class TaskFile(BaseModel):
    """The contents of ``task.json``."""

    model_config = ConfigDict(frozen=True)

    task: TaskSpec
    image_root: str = "."
    builder: dict[str, Any] = {}


def image_root(directory: Path, info: TaskFile) -> Path:
    """Where a task's image paths start: ``image_root`` of task.json, relative to its folder."""
    return Path(os.path.normpath((directory / info.image_root).absolute()))


def read_task_file(directory: Path) -> TaskFile:
    """Read ``task.json`` with errors that say which file and field is wrong."""
    path = directory / TASK_FILE
    if not path.is_file():
        raise ManifestError(f"no {TASK_FILE} in {directory}", hint="is this a task directory?")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(
            f"cannot read {path}: {error}", hint=f"rewrite {TASK_FILE} as UTF-8 JSON"
        ) from error
    try:
        return TaskFile.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ManifestError(
            f"{path}: {where}: {first['msg']}",
            hint=f"fix {TASK_FILE} ({error.error_count()} problem(s))",
        ) from error
