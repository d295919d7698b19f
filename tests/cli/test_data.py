import shutil
from pathlib import Path

import pandas as pd
import pytest

from radsweep.cli.main import cli
from radsweep.tasks.synthetic import SynthBenchmark


def test_tasks_lists_the_catalogue_and_built_tasks(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = small_benchmark.directory.parent
    assert cli(["--data-dir", str(data_dir), "data", "tasks"]) == 0
    output = capsys.readouterr().out
    for name in (
        "mimic-5x1200",
        "age",
        "3-day-discharge",
        "12-month-ph",
        "readmission",
        "pe",
        "synth-diagnostic",
        "synth-prognostic",
        "synth-age",
    ):
        assert name in output
    built = [line for line in output.splitlines() if "synth-age" in line]
    assert built and "│ benchm" in built[0]  # its folder, under the data folder


def test_splits_prints_sizes_and_class_counts(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = small_benchmark.directory / "synth-prognostic"
    assert cli(["data", "splits", str(folder), "--seed", "2"]) == 0
    output = capsys.readouterr().out
    assert "synth-prognostic, seed 2" in output
    assert "validation" in output and "good outcome" in output
    assert "train 0.05" in output and "train 1 " in output


def test_validate_accepts_a_good_manifest_and_names_rows_of_a_bad_one(
    small_benchmark: SynthBenchmark, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = small_benchmark.directory / "synth-age"
    assert cli(["data", "validate", str(good)]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    frame = pd.read_parquet(bad / "manifest.parquet")
    frame.loc[4, "label"] = 11
    frame.to_parquet(bad / "manifest.parquet")
    assert cli(["data", "validate", str(bad), "--skip-images"]) == 2
    assert "row 4: label is not a class index 0..4" in capsys.readouterr().err


def test_synth_builds_into_the_data_folder_then_reuses(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["data", "synth", "--samples", "60", "--image-size", "64"]
    assert cli(args) == 0
    assert (isolated_home / "data" / "synthetic" / "synth-age" / "manifest.parquet").is_file()
    assert "built synthetic benchmark" in capsys.readouterr().out
    assert cli(args) == 0
    assert "reused synthetic benchmark" in capsys.readouterr().out


def test_splits_marks_fractions_the_pool_cannot_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from radsweep.tasks.catalogue import STUDY_TASKS
    from radsweep.tasks.manifest import Manifest, TaskFile
    from tests.tasks.fixtures import task_folder

    mimic = STUDY_TASKS["mimic-5x1200"]
    folder, frame = task_folder(tmp_path, mimic, samples=100)
    Manifest.write(folder, frame, TaskFile(task=mimic))
    assert cli(["data", "splits", str(folder)]) == 0
    output = capsys.readouterr().out
    assert output.count("too few") == len(mimic.sizes)
    assert "asks for 100 training samples" in output.replace("\n", " ")


def test_probe_reads_each_modality_of_the_synthetic_tasks(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    folders = [str(small_benchmark.directory / name) for name in ("synth-diagnostic", "synth-age")]
    assert cli(["data", "probe", *folders]) == 0
    out = capsys.readouterr().out
    cells = [line.replace("│", " ").split() for line in out.splitlines() if "synth-" in line]
    rows = {row[0]: row for row in cells}
    assert set(rows) == {"synth-diagnostic", "synth-age"}
    assert float(rows["synth-diagnostic"][-2]) >= 0.97  # report AUC: the report is the label
