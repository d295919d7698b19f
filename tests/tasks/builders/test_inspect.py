import json
from pathlib import Path

import cv2
import pandas as pd
import pytest

from radsweep.errors import RadsweepError
from radsweep.imaging.drr import DrrGeometry, DrrMethod, plastimatch_binary
from radsweep.tasks.builders.inspect import build_inspect, parse_labels
from radsweep.tasks.manifest import Manifest
from tests.tasks.builders.fixtures import CT, write_inspect

TINY = DrrGeometry(detector_mm=150.0, pixels=32)


def _ph_cohort() -> list[CT]:
    """3 PH patients (mixed-case TRUE), 5 event-free patients (one with two CTs), 2 censored."""
    ph = "12_month_PH"
    return [
        CT(1, "7001", {ph: "TRUE"}),
        CT(2, "7002", {ph: "true"}),
        CT(3, "7003", {ph: " True "}),
        CT(4, "7004", {ph: "FALSE"}),
        CT(5, "7004", {ph: "false"}),
        CT(6, "7005", {ph: "FALSE"}),
        CT(7, "7006", {ph: "False"}),
        CT(8, "7007", {ph: "FALSE"}),
        CT(9, "7008", {ph: "FALSE"}),
        CT(10, "7009", {ph: "Censored"}),
        CT(11, "7010", {ph: "censored", "12_month_readmission": "TRUE"}),
        CT(12, "7011", {ph: "TRUE"}, volume=False),
    ]


def _build(task: str, root: Path, out: Path, **kw) -> Manifest:
    return build_inspect(task, root, out, method=DrrMethod.NUMPY, geometry=TINY, **kw)


def test_labels_parse_case_insensitively_and_censored_become_missing() -> None:
    values = pd.Series(["TRUE", "false", " True ", "Censored", "CENSOR"], dtype=str)
    parsed = parse_labels(values, "12_month_PH", Path("labels.tsv"))
    assert parsed.tolist()[:3] == [1.0, 0.0, 1.0] and parsed[3:].isna().all()
    with pytest.raises(RadsweepError, match=r"labels.tsv: column x .* \(data rows 1, 2\)"):
        parse_labels(pd.Series(["TRUE", "maybe", ""]), "x", Path("labels.tsv"))


def test_2025_layout_balances_patients_and_renders_drrs(tmp_path: Path) -> None:
    root = write_inspect(tmp_path / "inspect", _ph_cohort())
    manifest = _build("12-month-ph", root, tmp_path / "data" / "12-month-ph", seed=2)
    frame = manifest.frame
    positives = frame[frame["label"] == 1]
    assert set(positives["sample_id"]) == {"PE00000001", "PE00000002", "PE00000003"}
    negatives = frame[frame["label"] == 0]
    assert negatives["patient_id"].nunique() == 3
    assert not {"PE0000000a", "PE0000000b", "PE0000000c"} & set(frame["sample_id"])
    drr_dir = tmp_path / "data" / "inspect-drr"
    for path in manifest.image_paths():
        assert path.parent == drr_dir.resolve()
        assert cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).shape == (32, 32)
    assert json.loads((drr_dir / "drr.json").read_text())["method"] == "numpy"
    builder = manifest.info.builder
    assert builder["layout"] == "2025" and builder["options"]["target"] == "12_month_PH"
    assert (
        builder["counts"]["censored"] == 2 and builder["counts"]["CT volume not in the copy"] == 1
    )
    assert frame.loc[0, "report"] == "No pulmonary embolism. Mild atelectasis."
    again = _build("12-month-ph", root, tmp_path / "again", seed=2, drr_dir=drr_dir)
    pd.testing.assert_frame_equal(
        again.frame.drop(columns="image_path"), frame.drop(columns="image_path")
    )


def test_drrs_are_shared_resumed_and_guarded(tmp_path: Path) -> None:
    root = write_inspect(tmp_path / "inspect", _ph_cohort())
    data = tmp_path / "data"
    first = _build("12-month-ph", root, data / "12-month-ph")
    stamps = {path: path.stat().st_mtime_ns for path in first.image_paths()}
    second = _build("readmission", root, data / "readmission")
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in stamps.items())
    assert all(path.is_file() for path in second.image_paths())
    assert second.task.name == "readmission"
    with pytest.raises(RadsweepError, match="holds DRRs made with other settings"):
        build_inspect(
            "12-month-ph", root, data / "x", method=DrrMethod.NUMPY, geometry=DrrGeometry()
        )
    assert not (data / "x").exists()
    with pytest.raises(RadsweepError, match="task pe has one class after censoring"):
        _build("pe", root, data / "pe")


def test_original_layout_with_volumes_beside_the_tables(tmp_path: Path) -> None:
    cts = [CT(n, f"80{n:02d}", {"pe_positive_nlp": "True" if n % 3 == 0 else "False"})
           for n in range(1, 10)]  # fmt: skip
    root = write_inspect(tmp_path / "inspect", cts, layout="original")
    manifest = _build("pe", root, tmp_path / "pe")
    assert manifest.info.builder["layout"] == "original"
    assert manifest.frame.groupby("label")["patient_id"].nunique().tolist() == [3, 3]
    assert all(path.is_file() for path in manifest.image_paths())


def test_a_broken_volume_fails_the_build_but_keeps_finished_images(tmp_path: Path) -> None:
    root = write_inspect(tmp_path / "inspect", _ph_cohort())
    (root / "CTPA" / "PE00000002.nii.gz").write_bytes(b"truncated")
    with pytest.raises(RadsweepError, match=r"1 of \d+ CT volumes failed, e.g. .*PE00000002"):
        _build("12-month-ph", root, tmp_path / "data" / "ph")
    assert (tmp_path / "data" / "inspect-drr" / "PE00000001.jpg").is_file()
    assert not (tmp_path / "data" / "ph" / "manifest.parquet").exists()


def test_missing_layout_and_columns_are_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RadsweepError, match="holds neither INSPECT layout"):
        _build("pe", tmp_path / "empty", tmp_path / "pe")
    root = write_inspect(tmp_path / "inspect", _ph_cohort())
    labels = pd.read_csv(root / "labels_20250611.tsv", sep="\t").drop(columns="12_month_PH")
    labels.to_csv(root / "labels_20250611.tsv", sep="\t", index=False)
    with pytest.raises(RadsweepError, match=r"labels_20250611.tsv lacks column\(s\) 12_month_PH"):
        _build("12-month-ph", root, tmp_path / "ph")


def test_rendering_runs_in_worker_processes(tmp_path: Path) -> None:
    """Plastimatch when its binary is installed (the auto choice), else NumPy."""
    root = write_inspect(tmp_path / "inspect", _ph_cohort()[:5])
    manifest = build_inspect(
        "12-month-ph", root, tmp_path / "ph", method=DrrMethod.AUTO, geometry=TINY, workers=2
    )
    expected = "numpy" if plastimatch_binary() is None else "plastimatch"
    assert manifest.info.builder["options"]["drr"]["method"] == expected
    images = [cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) for path in manifest.image_paths()]
    assert len(images) == 3  # 1 of the 3 PH patients, to match the 1 event-free patient (2 CTs)
    assert all(image.shape == (32, 32) and image.std() > 0 for image in images)
