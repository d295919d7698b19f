from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radsweep.errors import ManifestError
from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.tasks.manifest import MANIFEST_FILE, TASK_FILE, Manifest, TaskFile, validate_frame
from tests.tasks.fixtures import manifest_frame, task_folder

READMISSION = STUDY_TASKS["readmission"]
MIMIC = STUDY_TASKS["mimic-5x1200"]


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    written = Manifest.write(
        folder, frame.sample(frac=1.0, random_state=1), TaskFile(task=READMISSION)
    )
    loaded = Manifest.load(folder)
    pd.testing.assert_frame_equal(loaded.frame, written.frame)
    assert list(loaded.frame["sample_id"]) == sorted(frame["sample_id"])
    assert loaded.frame["label"].dtype == np.int64
    assert "view" in loaded.frame  # metadata columns survive
    assert loaded.task == READMISSION
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp files


def test_image_list_hash_depends_on_ids_and_paths_only(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    first = Manifest.write(folder, frame, TaskFile(task=READMISSION)).image_list_hash()
    relabelled = frame.assign(label=1 - frame["label"])
    assert Manifest.write(folder, relabelled, TaskFile(task=READMISSION)).image_list_hash() == first
    fewer = frame.iloc[1:]
    assert Manifest.write(folder, fewer, TaskFile(task=READMISSION)).image_list_hash() != first


def _problem(frame: pd.DataFrame, root: Path, task=READMISSION, **kwargs: object) -> str:
    with pytest.raises(ManifestError) as caught:
        validate_frame(frame, task, root, **kwargs)
    return caught.value.one_line()


def test_duplicate_ids_are_named_by_row(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    frame.loc[7, "sample_id"] = frame.loc[3, "sample_id"]
    assert "rows 3, 7: sample_id is not unique" in _problem(frame, folder)


def test_missing_image_files(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    (folder / frame.loc[5, "image_path"]).unlink()
    assert "row 5: image file not found" in _problem(frame, folder)
    validate_frame(frame, READMISSION, folder, check_images=False)


def test_labels_outside_the_classes_and_nan_labels(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    frame["label"] = frame["label"].astype(float)
    frame.loc[2, "label"] = 2
    frame.loc[4, "label"] = np.nan
    frame.loc[6, "label"] = 0.5
    message = _problem(frame, folder)
    assert "row 4: label is missing" in message
    assert "rows 2, 6: label is not a class index 0..1" in message


def test_empty_reports_only_matter_when_reports_are_needed(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    frame.loc[1, "report"] = "   "
    frame.loc[9, "report"] = None
    assert "rows 1, 9: report is empty" in _problem(frame, folder)
    image_only = READMISSION.model_copy(update={"requires_reports": False})
    validate_frame(frame, image_only, folder)


@pytest.mark.parametrize("bad_path", ["../outside.png", "/etc/passwd", "images/../../x.png", ""])
def test_paths_escaping_the_data_root(tmp_path: Path, bad_path: str) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    frame.loc[0, "image_path"] = bad_path
    assert "row 0: image_path is empty, absolute or leaves the image root" in _problem(
        frame, folder
    )


def test_fixed_pool_tasks_need_valid_pools_without_shared_patients(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, MIMIC, samples=50)
    assert "lacks column(s) pool" in _problem(frame.drop(columns="pool"), folder, MIMIC)
    frame.loc[3, "pool"] = "test"
    frame.loc[0, "pool"], frame.loc[1, "pool"] = "train", "eval"  # patient pt-000 straddles
    message = _problem(frame, folder, MIMIC)
    assert "row 3: pool must be one of train, eval" in message
    assert "rows 0, 1: patient has images in both pools" in message


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    frame = manifest_frame(READMISSION).drop(columns=["report", "patient_id"])
    assert "lacks column(s) report, patient_id" in _problem(frame, tmp_path)


def test_long_lists_of_rows_are_shortened(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    frame["patient_id"] = ""
    assert "rows 0, 1, 2, 3, 4 and 35 more: patient_id is empty" in _problem(frame, folder)


def test_errors_never_quote_identifiers_or_report_text(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    frame.loc[3, "sample_id"] = frame.loc[2, "sample_id"]
    frame.loc[5, "report"] = ""
    message = _problem(frame, folder)
    assert "img-" not in message and "pt-" not in message and "FINDINGS" not in message


def test_load_reports_missing_or_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no task\.json"):
        Manifest.load(tmp_path)
    (tmp_path / TASK_FILE).write_text('{"task": {"name": "x"}}')
    with pytest.raises(ManifestError, match=r"task\.json: task\.title: Field required"):
        Manifest.load(tmp_path)
    (tmp_path / TASK_FILE).write_text(TaskFile(task=READMISSION).model_dump_json())
    with pytest.raises(ManifestError, match=f"no {MANIFEST_FILE}"):
        Manifest.load(tmp_path)
    (tmp_path / MANIFEST_FILE).write_bytes(b"not parquet")
    with pytest.raises(ManifestError, match="cannot read"):
        Manifest.load(tmp_path)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, READMISSION)
    frame.loc[0, "label"] = 9
    with pytest.raises(ManifestError):
        Manifest.write(folder, frame, TaskFile(task=READMISSION))
    assert not (folder / MANIFEST_FILE).exists()


def corrupt(frame: pd.DataFrame, kind: str, row: int) -> None:
    """Break one row of a valid manifest in one way."""
    match kind:
        case "duplicate id":
            frame.loc[row, "sample_id"] = frame.loc[(row + 1) % len(frame), "sample_id"]
        case "label out of range":
            frame.loc[row, "label"] = 7
        case "empty report":
            frame.loc[row, "report"] = ""
        case "escaping path":
            frame.loc[row, "image_path"] = "../../secret.png"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["duplicate id", "label out of range", "empty report", "escaping path"]),
    row=st.integers(0, 39),
)
def test_any_single_corruption_is_caught_and_its_row_named(
    tmp_path: Path, kind: str, row: int
) -> None:
    frame = manifest_frame(READMISSION)
    corrupt(frame, kind, row)
    with pytest.raises(ManifestError) as caught:
        validate_frame(frame, READMISSION, tmp_path, check_images=False)
    assert f" {row}" in caught.value.one_line()
