"""``radsweep data fetch iu-xray`` and ``data build iu-xray``, then screen and sweep local on it."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from radsweep.cli.main import cli
from radsweep.tasks.builders.iu_xray_fetch import LICENCE, SUMS_FILE
from tests.tasks.builders.iu_fixtures import IuCopy, write_iu_copy

SWEEP = """\
method: grid
metric: {name: auc/final/mean, goal: maximize}
parameters:
  task: {value: iu-normal}
  method: {values: [image, distill]}
  backbone: {value: pixel-patches}
  text_encoder: {value: minilm-sentences}
  fraction: {value: 1.0}
  epochs: {value: 2}
  lr: {value: 0.001}
  seeds: {value: [0, 1]}
"""


@pytest.fixture
def iu_copy(tmp_path: Path) -> IuCopy:
    return write_iu_copy(tmp_path / "publisher")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    error = capsys.readouterr().err.strip()
    assert error.startswith("radsweep: error: ") and "\n" not in error, error
    return error


def test_fetch_prints_the_licence_first_then_resumes_an_interrupted_download(
    iu_copy: IuCopy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    to, mirror = tmp_path / "downloads", tmp_path / "mirror"
    mirror.mkdir()
    published = iu_copy.images.read_bytes()
    half = len(published) // 2
    # The mirror's first half is wrong: only a download that resumes after the .part file's
    # bytes (the first half, as an interrupted download left it) ends with the right archive.
    (mirror / "NLMCXR_png.tgz").write_bytes(bytes(half) + published[half:])
    (mirror / "NLMCXR_reports.tgz").write_bytes(iu_copy.reports.read_bytes())
    to.mkdir()
    (to / "NLMCXR_png.tgz.part").write_bytes(published[:half])
    args = ["data", "fetch", "iu-xray", "--to", str(to), "--mirror", mirror.as_uri()]
    assert cli([*args, "--sha256-images", _sha(iu_copy.images)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == LICENCE and "CC BY-NC-ND 4.0" in lines[0]
    assert (to / "NLMCXR_png.tgz").read_bytes() == published
    assert not (to / "NLMCXR_png.tgz.part").exists()
    assert (to / "NLMCXR_reports.tgz").read_bytes() == iu_copy.reports.read_bytes()
    sums = (to / SUMS_FILE).read_text()
    assert f"{_sha(iu_copy.images)}  NLMCXR_png.tgz" in sums
    assert lines[-1].startswith("next: radsweep data build iu-xray --reports")

    (to / "NLMCXR_reports.tgz").write_bytes(b"changed since the first fetch")
    assert cli(args) == 2  # a later fetch checks the copy against SHA256SUMS
    assert "NLMCXR_reports.tgz has SHA-256" in _one_error_line(capsys)


def test_fetch_rejects_a_wrong_checksum_in_one_line_and_keeps_nothing(
    iu_copy: IuCopy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    to = tmp_path / "downloads"
    mirror = iu_copy.reports.parent.as_uri()
    args = ["data", "fetch", "iu-xray", "--to", str(to), "--mirror", mirror]
    assert cli([*args, "--sha256-reports", "0" * 64]) == 2
    error = _one_error_line(capsys)
    assert "NLMCXR_reports.tgz: downloaded file has SHA-256" in error
    assert "expected 000000000000" in error
    assert not (to / "NLMCXR_reports.tgz").exists()
    assert not (to / "NLMCXR_reports.tgz.part").exists()


def test_build_writes_tasks_that_validate(
    iu_copy: IuCopy, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["data", "build", "iu-xray", "--reports", str(iu_copy.reports)]
    args += ["--images", str(iu_copy.images), "--projections", str(iu_copy.projections)]
    assert cli([*args, "--min-positives", "5"]) == 0
    captured = capsys.readouterr()
    assert "built iu-normal" in captured.out and "built iu-atelectasis" in captured.out
    assert "no frontal image 1" in captured.out
    assert "Traceback" not in captured.err  # not a terminal: quick work prints no progress line
    for task in ("iu-normal", "iu-cardiomegaly", "iu-opacity", "iu-atelectasis"):
        assert cli(["data", "validate", task]) == 0
        assert f"valid: {task}" in capsys.readouterr().out
    frame = pd.read_parquet(isolated_home / "data" / "iu-normal" / "manifest.parquet")
    assert frame["patient_id"].is_unique


def test_build_names_a_missing_archive_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "NLMCXR_png.tgz"
    args = ["data", "build", "iu-xray", "--reports", str(tmp_path), "--images", str(missing)]
    assert cli(args) == 2
    assert f"--images {missing} does not exist" in _one_error_line(capsys)


@pytest.mark.slow
def test_the_built_task_runs_through_screen_and_sweep_local(
    iu_copy: IuCopy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build = ["data", "build", "iu-xray", "--reports", str(iu_copy.reports)]
    assert cli([*build, "--images", str(iu_copy.images), "--min-positives", "5"]) == 0
    screen = ["screen", "iu-normal", "--seeds", "0-1", "--epochs", "2", "--fractions", "1.0"]
    assert cli(screen) == 0
    printed = capsys.readouterr().out
    assert "text only (probe)" in printed and "verdict: " in printed
    spec = tmp_path / "iu-mini.yaml"
    spec.write_text(SWEEP)
    assert cli(["sweep", "local", str(spec)]) == 0
    assert "iu-mini: 2 configurations" in capsys.readouterr().out
