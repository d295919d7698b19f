"""Scriptable output: whole tables when piped, ``--json`` with fixed schemas, real metavars."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from radsweep.cli.main import app, cli
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.queue import JobQueue, queue_path
from radsweep.tasks.registry import KNOWN_TASKS
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.training.config import Method
from tests.results import sweep

PYTHON_TYPES = re.compile(r"<(bool|str|int|float|path|list\[[^\]]*\]|[A-Z][A-Za-z]+)>")


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert cli([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def store(isolated_home: Path) -> ResultsStore:
    store = ResultsStore(default_store_path(Settings(home=isolated_home)))
    sweep.record(store, task="synth-age", backbone="pixel-patches", fraction=0.1)
    sweep.record(store, task="synth-prognostic", method=Method.TEXT, fraction=0.5)
    return store


# --- piped output ---------------------------------------------------------------------------------


def test_piped_tables_are_never_cut(isolated_home: Path) -> None:
    """The real entry point with stdout a pipe and no COLUMNS: every cell whole, on one line."""
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    result = subprocess.run(
        [sys.executable, "-m", "radsweep", "data", "tasks"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert "…" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    mimic = [row for row in rows if "mimic-5x1200" in row]
    assert len(mimic) == 1 and "diagnostic" in mimic[0] and "6: 0.025-1" in mimic[0]
    assert len(rows) == len(KNOWN_TASKS)  # one line per task: nothing wrapped onto a second line


def test_piped_results_keep_long_names(
    store: ResultsStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["results", "ls"]) == 0
    output = capsys.readouterr().out
    assert "pixel-patches" in output and "…" not in output


# --- --json ---------------------------------------------------------------------------------------

RUN_KEYS = {
    "run_key": str,
    "task": str,
    "backbone": (str, type(None)),
    "method": str,
    "head": (str, type(None)),
    "fraction": float,
    "tau": (float, type(None)),
    "lam": (float, type(None)),
    "epochs": (int, type(None)),
    "lr": (float, type(None)),
    "text_encoder": (str, type(None)),
    "max_length": (int, type(None)),
    "task_digest": (str, type(None)),
    "seeds": int,
    "auc": float,
    "auc_ci95": list,
}


def test_results_ls_json(store: ResultsStore, capsys: pytest.CaptureFixture[str]) -> None:
    listed = _json(capsys, "results", "ls")
    assert listed["results_db"] == str(store.path)
    runs = listed["runs"]
    assert [run["task"] for run in runs] == ["synth-age", "synth-prognostic"]
    for run in runs:
        assert set(run) == set(RUN_KEYS)
        assert all(isinstance(run[key], kind) for key, kind in RUN_KEYS.items())
        low, high = run["auc_ci95"]
        assert low < run["auc"] < high and run["seeds"] == len(sweep.SEEDS)
    text = runs[1]
    assert text["method"] == "text" and text["backbone"] is None and text["head"] is None
    assert _json(capsys, "results", "ls", "--task", "synth-age")["runs"] == runs[:1]


def test_data_tasks_json_is_the_task_contract(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = small_benchmark.directory.parent
    tasks = _json(capsys, "--data-dir", str(data_dir), "data", "tasks")
    by_name = {task["name"]: task for task in tasks}
    assert by_name["mimic-5x1200"]["directory"] is None
    assert by_name["synth-age"]["directory"] == str(small_benchmark.directory / "synth-age")
    assert by_name["synth-prognostic"]["split"] == {"kind": "random", "validation_share": 0.25}
    assert {"fraction", "epochs"} <= set(by_name["age"]["sizes"][0])


def test_data_splits_json(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = small_benchmark.directory / "synth-prognostic"
    split = _json(capsys, "data", "splits", str(folder), "--seed", "1")
    assert split["task"] == "synth-prognostic" and split["seed"] == 1
    classes = set(split["validation"]["class_counts"])
    assert len(classes) == 2
    sizes = [row["samples"] for row in split["training"] if row["samples"] is not None]
    assert sizes == sorted(sizes) and sizes[-1] + split["validation"]["samples"] == 400
    for row in split["training"]:
        if row["samples"] is not None:
            assert sum(row["class_counts"].values()) == row["samples"]


def test_data_probe_json(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = small_benchmark.directory / "synth-diagnostic"
    probed = _json(capsys, "data", "probe", str(folder), "--seed", "3")
    assert probed["seed"] == 3
    (task,) = probed["tasks"]
    assert task["task"] == "synth-diagnostic" and task["samples"] == 400
    assert task["training_samples"] + task["validation_samples"] == 400
    assert 0.0 <= task["image_auc"] <= 1.0 and 0.0 <= task["report_auc"] <= 1.0


def test_features_json(tiny_features: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    caches = _json(capsys, "--cache-dir", str(tiny_features.cache), "features", "ls")
    assert [cache["kind"] for cache in caches] == ["image"]
    (cache,) = caches
    assert cache["encoder"] == "c2l" and cache["task"] == "synth-prognostic"
    assert cache["complete"] is True and cache["samples"] == 120 and cache["bytes"] > 0
    assert _json(capsys, "--cache-dir", str(tiny_features.home), "features", "ls") == []
    encoders = _json(capsys, "features", "encoders", "--kind", "image")
    gloria = next(entry for entry in encoders if entry["name"] == "gloria")
    assert gloria["variants"][0] == "paper" and gloria["display"] == "GLoRIA"
    assert gloria["grid"] == [7, 7] and gloria["default_weights"].startswith("https://")


def test_sweep_status_json(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, "sweep", "status")["sweeps"] == []
    configs = [
        RunConfig(task="synth-age", backbone="c2l", fraction=fraction, tiny=True)
        for fraction in (0.1, 0.5, 1.0)
    ]
    with JobQueue(queue_path(Settings(home=isolated_home).results)) as queue:
        queue.enqueue("demo", configs)
        job = queue.claim("w1")
        assert job is not None and queue.fail(job.id, "w1", "boom\nsecond line")
    status = _json(capsys, "sweep", "status")
    (demo,) = status["sweeps"]
    assert demo["spec"] == "demo" and demo["total"] == 3
    assert demo["counts"]["failed"] == 1 and demo["counts"]["pending"] == 2
    (failure,) = demo["failures"]
    assert failure["error"] == "boom second line" and failure["fraction"] == 0.1


# --- --help ---------------------------------------------------------------------------------------


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]

    def walk(command: Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            if not sub.hidden:
                paths.append([*path, name])
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda path: " ".join(path) or "radsweep")
def test_help_shows_no_python_types(
    path: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert cli([*path, "--help"]) == 0
    shown = capsys.readouterr().out
    assert "--help" in shown
    assert PYTHON_TYPES.findall(shown) == []


def _help(capsys: pytest.CaptureFixture[str], *path: str) -> str:
    assert cli([*path, "--help"]) == 0
    return capsys.readouterr().out


def test_one_name_and_metavar_per_concept(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for path in (("results", "ls"), ("results", "export"), ("report",)):
        assert re.search(r"--from\s+RESULTS_DB", _help(capsys, *path)), path
    for path in (("train",), ("features", "extract")):
        shown = _help(capsys, *path)
        assert re.search(r"--weights\s+PATH\|HUB_ID", shown), path
        assert re.search(r"--text-weights\s+PATH\|HUB_ID", shown), path
    for path in (("train",), ("features", "extract"), ("sweep", "local"), ("sweep", "agent")):
        assert re.search(r"--device\s+auto\|cpu\|cuda\|cuda:N", _help(capsys, *path)), path
    assert re.search(r"--tiny\s+Tiny", _help(capsys, "train"))  # a flag takes no value
    assert re.search(r"--head\s+attention\|mean-lp\|cls-lp", _help(capsys, "train"))
