"""``radsweep results`` and ``radsweep report`` on a small store in the isolated home."""

import json
from pathlib import Path

import pandas as pd
import pytest

from radsweep.cli.main import cli
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.settings import Settings
from radsweep.training.config import Method
from tests.results import sweep


@pytest.fixture
def store(isolated_home: Path) -> ResultsStore:
    """Two image-only runs and a distillation run in the default store of the test's home."""
    store = ResultsStore(default_store_path(Settings(home=isolated_home)))
    sweep.record(store, task="synth-age", backbone="c2l", fraction=0.1)
    sweep.record(store, task="synth-age", backbone="c2l", fraction=0.5)
    sweep.record(
        store, task="synth-prognostic", backbone="mrm", method=Method.DISTILL, fraction=0.5
    )
    return store


def test_ls_lists_runs_with_their_auc_interval(
    store: ResultsStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["results", "ls"]) == 0
    output = capsys.readouterr().out
    for key in store.runs()["run_key"]:
        assert key[:8] in output
    seeds = store.seed_metrics().query("stage == 'model' and task == 'synth-age'")
    first = seeds[seeds["fraction"] == 0.1]["final_auc"]
    assert f"{first.mean():.3f} ±" in output
    assert "synth-prognostic" in output and "3 runs." in output
    assert cli(["results", "ls", "--task", "synth-age"]) == 0
    assert "synth-prognostic" not in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_the_three_tables(store: ResultsStore, tmp_path: Path, fmt: str) -> None:
    assert cli(["results", "export", "--out", str(tmp_path / "x"), "--format", fmt]) == 0
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    assert len(read(tmp_path / "x" / f"runs.{fmt}")) == 3
    assert len(read(tmp_path / "x" / f"seed_metrics.{fmt}")) == 3 * 3 + 3  # + the teacher
    assert len(read(tmp_path / "x" / f"curves.{fmt}")) == 12 * 3 + 12


def test_export_from_another_database(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "elsewhere.sqlite")
    sweep.record(store, task="synth-age", backbone="c2l", fraction=0.1)
    out = tmp_path / "out"
    assert cli(["results", "export", "--from", str(store.path), "--out", str(out)]) == 0
    assert len(pd.read_parquet(out / "runs.parquet")) == 1


def test_user_errors_are_one_line(
    store: ResultsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["results", "export", "--out", str(tmp_path), "--format", "xlsx"]) == 2
    assert "unknown export format 'xlsx'" in capsys.readouterr().err
    assert cli(["results", "ls", "--from", str(tmp_path / "none.sqlite")]) == 2
    error = capsys.readouterr().err
    assert "no results store at" in error and error.count("\n") == 1
    assert not (tmp_path / "none.sqlite").exists()


def test_report_writes_the_page_and_names_what_is_missing(
    store: ResultsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert cli(["report", "--out", str(out)]) == 0
    output = capsys.readouterr().out
    assert f"wrote {out / 'report.html'}" in output
    assert "distillation-auc-synth-prognostic: 2 missing" in output  # image, self-distillation
    page = (out / "report.html").read_text()
    assert "Synthetic prognostic: MRM, fraction 0.5, image" in page
    assert (out / "figures" / "sample-efficiency-auc.svg").is_file()


def test_report_sources_exclude_each_other_and_must_exist(
    store: ResultsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = ["report", "--out", str(tmp_path), "--from", str(store.path), "--from-wandb", "a/b"]
    assert cli(both) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert cli(["report", "--out", str(tmp_path), "--from", str(tmp_path / "no.sqlite")]) == 2
    assert "no results store" in capsys.readouterr().err


def test_report_from_wandb_without_a_server_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["report", "--from-wandb", "team/radsweep", "--out", str(tmp_path / "r")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("radsweep: error: cannot read runs of W&B project team/radsweep")
    assert "\n" not in error
    assert not (tmp_path / "r").exists()


def test_report_of_an_unknown_run_is_an_error(
    store: ResultsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["report", "--out", str(tmp_path / "r"), "--run", "zzzzzz"]) == 2
    error = capsys.readouterr().err
    assert "--run zzzzzz matches no run" in error and error.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_an_existing_file_as_out_folder_names_the_file(
    store: ResultsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine")
    assert cli(["results", "export", "--out", str(taken)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("radsweep: error: ") and error.count("\n") == 1
    assert str(taken) in error and "Traceback" not in error
    assert taken.read_text() == "mine"


def test_a_damaged_store_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"garbage" * 1000)
    assert cli(["results", "ls", "--from", str(path)]) == 2
    error = capsys.readouterr().err
    assert str(path) in error and error.count("\n") == 1


def test_ls_of_a_store_with_no_runs_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A new store has no config columns until its first run: listing it is still 0 runs."""
    path = tmp_path / "results.sqlite"
    ResultsStore(path)
    assert cli(["results", "ls", "--from", str(path), "--task", "synth-age"]) == 0
    assert "0 runs" in capsys.readouterr().out
    assert cli(["results", "ls", "--from", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == []


def test_teachers_lists_and_prunes_those_whose_caches_are_gone(
    store: ResultsStore, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = json.dumps({"task": "synth-prognostic", "backbone": "mrm", "method": "distill"})
    store.record_teacher("a" * 32, identity, ["no-such-cache"], sweep.teacher_record())
    assert cli(["results", "teachers"]) == 0
    output = capsys.readouterr().out
    assert "aaaaaaaa" in output and "gone" in output and "1 teachers." in output
    assert cli(["results", "teachers", "--prune", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["teachers"] == [] and printed["removed"] == ["a" * 32]
    assert store.teachers().empty
