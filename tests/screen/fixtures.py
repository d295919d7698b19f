"""What screen tests build on: their own copy of the session's caches, and a user's task folder."""

import shutil
from pathlib import Path

from radsweep.settings import Settings
from radsweep.tasks.manifest import Manifest, TaskFile
from radsweep.tasks.spec import RandomSplit, TaskKind, TaskSpec, TrainingSize
from tests.tasks.fixtures import task_folder


def own_caches(shared: Settings, root: Path) -> Settings:
    """``shared`` (the session's ``tiny_features``) with its feature caches copied under ``root``
    and ``root`` as home: a screen extracts the text features it lacks, and they must not land
    in the fixture that other tests read. The data folder is only read, so it stays shared."""
    cache = shutil.copytree(shared.cache, root / "cache")
    return Settings(home=root / "home", data_dir=shared.data, cache_dir=cache)


def user_task(
    root: Path, name: str, samples: int, kind: TaskKind = TaskKind.PROGNOSTIC, reports: bool = True
) -> Path:
    """A user's task folder ``root/name`` outside the catalogue: two classes, a 30 % validation
    share, one training size of half the rest; with ``reports=False`` its report text is empty."""
    task = TaskSpec(
        name=name,
        title=name.replace("-", " ").capitalize(),
        kind=kind,
        classes=("a", "b"),
        split=RandomSplit(validation_share=0.3),
        sizes=(TrainingSize(fraction=0.5, epochs=1),),
        requires_reports=reports,
    )
    folder, frame = task_folder(root / name, task, samples=samples)
    Manifest.write(folder, frame if reports else frame.assign(report=""), TaskFile(task=task))
    return folder
