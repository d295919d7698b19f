from pathlib import Path

import pytest

from radsweep.errors import RadsweepError
from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.tasks.manifest import Manifest, TaskFile
from radsweep.tasks.registry import (
    KNOWN_TASKS,
    all_tasks,
    discover,
    find_task_directory,
    unreadable_tasks,
)
from radsweep.tasks.spec import RandomSplit, TaskKind, TaskSpec, TrainingSize
from tests.tasks.fixtures import task_folder

OWN = TaskSpec(
    name="my-own-task",
    title="Own",
    kind=TaskKind.PROGNOSTIC,
    classes=("a", "b"),
    split=RandomSplit(validation_share=0.2),
    sizes=(TrainingSize(fraction=1.0, epochs=3),),
)


def _build(folder: Path, task: TaskSpec) -> Path:
    folder.mkdir(parents=True)
    folder, frame = task_folder(folder, task)
    Manifest.write(folder, frame, TaskFile(task=task))
    return folder


def test_known_tasks_are_listed_even_before_they_are_built(tmp_path: Path) -> None:
    entries = all_tasks(tmp_path / "nothing-here")
    assert [entry.spec.name for entry in entries] == list(KNOWN_TASKS)
    assert all(entry.directory is None for entry in entries)


def test_user_tasks_on_disk_are_first_class(tmp_path: Path) -> None:
    own = _build(tmp_path / "projects" / "mine", OWN)
    readmission = _build(tmp_path / "readmission", STUDY_TASKS["readmission"])
    entries = {entry.spec.name: entry.directory for entry in all_tasks(tmp_path)}
    assert entries["my-own-task"] == own
    assert entries["readmission"] == readmission
    assert [entry.spec.name for entry in discover(tmp_path)] == ["readmission", "my-own-task"]


def test_find_by_name_or_path(tmp_path: Path) -> None:
    own = _build(tmp_path / "mine", OWN)
    assert find_task_directory("my-own-task", tmp_path) == own
    assert find_task_directory(str(own), tmp_path / "elsewhere") == own


def test_unbuilt_and_unknown_tasks_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(RadsweepError, match="task age has no manifest"):
        find_task_directory("age", tmp_path)
    with pytest.raises(RadsweepError, match="unknown task 'nope'") as caught:
        find_task_directory("nope", tmp_path)
    assert "synth-prognostic" in caught.value.one_line()


@pytest.mark.parametrize("damage", [b'{"task": ', b"\xff\xfe not utf-8"])
def test_one_damaged_task_file_hides_no_other_task(tmp_path: Path, damage: bytes) -> None:
    own = _build(tmp_path / "projects" / "mine", OWN)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "task.json").write_bytes(damage)
    assert [entry.directory for entry in discover(tmp_path)] == [own]
    assert find_task_directory("my-own-task", tmp_path) == own
    [problem] = unreadable_tasks(tmp_path)
    assert str(broken / "task.json") in str(problem)
    with pytest.raises(RadsweepError, match=r"1 unreadable: .*broken/task\.json"):
        find_task_directory("no-such-task", tmp_path)
