"""A starting task.json for a researcher's own data: every field written out, so editing it is
easier than reading the contract."""

import re
from dataclasses import dataclass
from pathlib import Path

from radsweep.atomic import write_text_atomic
from radsweep.errors import ManifestError
from radsweep.tasks.manifest import MANIFEST_FILE, REQUIRED_COLUMNS, TASK_FILE, TaskFile
from radsweep.tasks.spec import RandomSplit, TaskKind, TaskSpec, TrainingSize

IMAGE_FOLDER = "images"
# Fractions of the training pool and epochs per fraction: fewer samples, more epochs, as in the
# paper's tables (e.g. 100 epochs up to a quarter of the pool, 50 above).
EXAMPLE_SIZES = ((0.05, 100), (0.10, 100), (0.25, 100), (0.50, 50), (1.0, 50))


def task_name_for(folder: Path) -> str:
    """A valid task name from a folder name (lower case, letters, digits, ``.``, ``_``, ``-``)."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", folder.name.lower()).strip("-._")
    return slug or "my-task"


def example_task_file(name: str) -> TaskFile:
    """A complete binary diagnostic task with a random 20 % validation share per seed."""
    task = TaskSpec(
        name=name,
        title=name.replace("-", " ").capitalize(),
        kind=TaskKind.DIAGNOSTIC,
        classes=("negative", "positive"),
        split=RandomSplit(validation_share=0.2),
        sizes=tuple(TrainingSize(fraction=f, epochs=e) for f, e in EXAMPLE_SIZES),
        default_tau=0.25,
        balanced=False,
        requires_reports=True,
        source="my institution's archive, exported on YYYY-MM-DD",
        description="Label 1 = finding present. Replace the classes, kind and sizes with yours.",
    )
    return TaskFile(task=task, image_root=IMAGE_FOLDER, builder={})


@dataclass(frozen=True)
class InitResult:
    """What ``init_task_folder`` wrote, and what the user still has to put beside it."""

    task_file: Path
    manifest: Path
    images: Path
    columns: tuple[str, ...]


def init_task_folder(folder: Path, name: str | None = None, force: bool = False) -> InitResult:
    """Write an example ``task.json`` into ``folder`` (created if needed); never overwrite one
    unless ``force``, since it may hold a user's edits."""
    path = folder / TASK_FILE
    if path.exists() and not force:
        raise ManifestError(
            f"{path} already exists", hint="edit it, or pass --force to replace it with the example"
        )
    if folder.exists() and not folder.is_dir():
        raise ManifestError(f"{folder} is a file, not a folder", hint="pass a folder path")
    info = example_task_file(name or task_name_for(folder.absolute()))
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, info.model_dump_json(indent=2) + "\n")
    return InitResult(path, folder / MANIFEST_FILE, folder / IMAGE_FOLDER, REQUIRED_COLUMNS)
