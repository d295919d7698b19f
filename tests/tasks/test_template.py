"""The example task.json that ``radsweep data init`` writes: complete, valid, never clobbering."""

import json
from pathlib import Path

import pytest

from radsweep.errors import ManifestError
from radsweep.tasks.manifest import TASK_FILE, read_task_file
from radsweep.tasks.spec import TaskSpec
from radsweep.tasks.template import example_task_file, init_task_folder, task_name_for


def test_the_example_spells_out_every_field(tmp_path: Path) -> None:
    made = init_task_folder(tmp_path / "Chest X-rays 2024")
    written = json.loads(made.task_file.read_text(encoding="utf-8"))
    assert set(written["task"]) == set(TaskSpec.model_fields)
    assert set(written) == {"task", "image_root", "builder"}
    info = read_task_file(made.task_file.parent)
    assert info.task.name == "chest-x-rays-2024"
    assert made.images == made.task_file.parent / info.image_root
    assert made.manifest.name == "manifest.parquet"


def test_an_existing_task_file_is_kept_unless_forced(tmp_path: Path) -> None:
    path = init_task_folder(tmp_path, name="first").task_file
    with pytest.raises(ManifestError, match="already exists"):
        init_task_folder(tmp_path, name="second")
    assert read_task_file(tmp_path).task.name == "first"
    init_task_folder(tmp_path, name="second", force=True)
    assert read_task_file(path.parent).task.name == "second"


def test_a_file_is_not_a_task_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ManifestError, match="not a folder"):
        init_task_folder(tmp_path / "notes.txt")
    assert not (tmp_path / TASK_FILE).exists()


@pytest.mark.parametrize(("folder", "name"), [("My_Data", "my_data"), ("---", "my-task")])
def test_task_names_from_folder_names(folder: str, name: str) -> None:
    assert task_name_for(Path(folder)) == name


def test_the_data_docs_show_what_init_writes() -> None:
    """docs/data.md shows the example task.json verbatim, so the page never drifts from it."""
    page = (Path(__file__).parents[2] / "docs" / "data.md").read_text(encoding="utf-8")
    shown = page.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(shown) == example_task_file("my-task").model_dump(mode="json")
    for field in TaskSpec.model_fields:
        assert f"`task.{field}`" in page
