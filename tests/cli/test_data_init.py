"""Your own data through the CLI: init, images, manifest, validate."""

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from radsweep.cli.main import cli


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    return lines[0]


def test_init_then_images_and_manifest_then_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "my-task"
    assert cli(["data", "init", str(folder)]) == 0
    said = capsys.readouterr().out
    assert "task.json" in said and "manifest.parquet" in said and "data validate" in said
    (folder / "images").mkdir()
    rows = []
    for index in range(8):
        Image.new("L", (16, 16), 30 * index).save(folder / "images" / f"{index}.png")
        rows.append(
            {
                "sample_id": f"s{index}",
                "image_path": f"{index}.png",
                "report": "No acute findings." if index % 2 else "Small effusion.",
                "label": index % 2,
                "patient_id": f"p{index // 2}",
            }
        )
    pd.DataFrame(rows).to_parquet(folder / "manifest.parquet", index=False)
    assert cli(["data", "validate", str(folder)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_a_folder_without_task_json_says_how_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["data", "validate", str(tmp_path)]) == 2
    line = _one_error_line(capsys)
    assert f"{tmp_path} has no task.json" in line
    assert f"radsweep data init {tmp_path}" in line
    assert "unknown task" not in line


def test_init_keeps_an_edited_task_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["data", "init", str(tmp_path), "--name", "mine"]) == 0
    assert cli(["data", "init", str(tmp_path)]) == 2
    assert "--force" in _one_error_line(capsys)
