"""The results store: one transaction per run, idempotent keys, several writing processes."""

import json
import multiprocessing
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import BaseModel

from radsweep.errors import RadsweepError
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import CONFIG_COLUMNS, RunConfig, run_key
from radsweep.settings import Settings
from radsweep.tasks.synthetic.tasks import SYNTHETIC_TASKS
from radsweep.training import Method, TrainConfig, fit
from radsweep.training.results import FitResult
from tests.results import sweep
from tests.training.synthetic import seed_splits, token_features

torch.set_flush_denormal(True)


@pytest.fixture
def store(tmp_path: Path) -> ResultsStore:
    return ResultsStore(tmp_path / "results.sqlite")


def _counts(store: ResultsStore) -> tuple[int, int, int]:
    return len(store.runs()), len(store.seed_metrics()), len(store.curves())


def test_default_location_is_under_the_results_folder(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert default_store_path(settings) == tmp_path / "results" / "results.sqlite"


def test_a_run_is_stored_with_its_config_seeds_and_curves(store: ResultsStore) -> None:
    done = sweep.record(
        store, task="synth-prognostic", backbone="c2l", method=Method.DISTILL, fraction=0.5
    )
    assert store.has(done.key) and not store.has("0" * 32)
    runs = store.runs()
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["run_key"] == done.key
    assert json.loads(run["config"]) == json.loads(done.config.canonical())
    assert (run["task"], run["backbone"], run["method"]) == ("synth-prognostic", "c2l", "distill")
    assert run["fraction"] == 0.5 and run["tau"] == 0.25 and run["lam"] == 0.5
    assert json.loads(run["seeds"]) == list(sweep.SEEDS)
    assert json.loads(run["cache_keys"]) == sorted(sweep.CACHE_KEYS)
    assert json.loads(run["meta"]) == {"device": "cpu", "seconds": 1.5}
    assert TrainConfig.model_validate_json(run["train_config"]) == done.result.config

    seeds = store.seed_metrics()
    assert sorted(set(seeds["stage"])) == ["model", "teacher"]
    assert set(CONFIG_COLUMNS) <= set(seeds.columns)
    for stage, curves in (("model", done.result.model), ("teacher", done.result.teacher)):
        rows = seeds[seeds["stage"] == stage].sort_values("seed")
        np.testing.assert_allclose(rows["final_auc"], curves.final_auc)
        np.testing.assert_allclose(rows["best_auprc"], curves.best_auprc)
        np.testing.assert_array_equal(rows["best_epoch"], curves.best_epoch + 1)
        assert list(rows["n_train"]) == list(done.result.train_sizes)
        assert set(rows["n_validation"]) == {100}

    curves = store.curves(done.key)
    assert len(curves) == 2 * len(sweep.SEEDS) * sweep.EPOCHS
    model = curves[(curves["stage"] == "model") & (curves["seed"] == 2)]
    assert list(model["epoch"]) == [1, 2, 3, 4]
    np.testing.assert_allclose(model["auc"], done.result.model.auc[2])
    np.testing.assert_allclose(model["loss"], done.result.model.loss[2])


def test_recording_a_key_twice_changes_nothing(store: ResultsStore) -> None:
    done = sweep.record(store, task="synth-age", backbone="mrm", fraction=0.1)
    before = _counts(store)
    other = sweep.fit_result(done.config.model_copy(update={"fraction": 0.5}))
    assert store.record(done.key, done.config, other, sweep.CACHE_KEYS) is False
    assert _counts(store) == before
    np.testing.assert_allclose(
        store.seed_metrics()["final_auc"], done.result.model.final_auc
    )  # the first record stands


def test_a_failing_run_writes_nothing(store: ResultsStore) -> None:
    """Duplicate seeds break the per-seed key mid-transaction: the run row is rolled back too."""
    done = sweep.record(store, task="synth-age", backbone="mrm", fraction=0.1)
    result = done.result
    bad = FitResult(
        result.config, (0, 0, 1), result.train_sizes, result.validation_sizes, result.model
    )
    with pytest.raises(sqlite3.IntegrityError):
        store.record("f" * 32, done.config, bad, sweep.CACHE_KEYS)
    assert not store.has("f" * 32)
    assert _counts(store) == (1, 3, 12)


def test_shapes_that_do_not_match_the_seeds_are_refused(store: ResultsStore) -> None:
    done = sweep.record(store, task="synth-age", backbone="mrm", fraction=0.1)
    result = done.result
    bad = FitResult(
        result.config, (0, 1), result.train_sizes[:2], result.validation_sizes[:2], result.model
    )
    with pytest.raises(ValueError, match="curves must be"):
        store.record("e" * 32, done.config, bad, sweep.CACHE_KEYS)


def _writer(path: str, worker: int, start: "multiprocessing.synchronize.Event", queue) -> None:
    store = ResultsStore(Path(path))
    start.wait()
    fractions = np.linspace(0.05, 1.0, 12)
    wins = []
    for index, fraction in enumerate(fractions):
        config = RunConfig(
            task="synth-age", backbone=f"worker-{worker}", fraction=fraction, seeds=(0, 1), epochs=3
        )
        store.record(run_key(config, []), config, sweep.fit_result(config), [])
        if index == 6:  # both workers race for the same key half-way through
            shared = RunConfig(task="synth-age", backbone="shared", fraction=0.5, epochs=3)
            wins.append(store.record("shared", shared, sweep.fit_result(shared), []))
    queue.put(wins)


def test_two_processes_write_one_store(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "results.sqlite"
    context = multiprocessing.get_context("fork")
    start, queue = context.Event(), context.Queue()
    workers = [context.Process(target=_writer, args=(str(path), i, start, queue)) for i in (0, 1)]
    for worker in workers:
        worker.start()
    start.set()
    wins = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert sorted(win for worker_wins in wins for win in worker_wins) == [False, True]
    store = ResultsStore(path)
    runs = store.runs()
    assert len(runs) == 2 * 12 + 1
    assert runs["backbone"].value_counts().to_dict() == {
        "worker-0": 12,
        "worker-1": 12,
        "shared": 1,
    }
    assert len(store.seed_metrics(run_key="shared")) == 5
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_real_fit_is_recorded(store: ResultsStore) -> None:
    data = token_features(samples=80, views=1, tokens=4, dim=8, text_tokens=3, text_dim=6)
    splits = seed_splits(data.samples, [0, 1], train=[40, 36], validation=30)
    config = RunConfig(
        task="synth-prognostic",
        backbone="c2l",
        method=Method.DISTILL,
        fraction=0.5,
        seeds=(0, 1),
        epochs=2,
    )
    result = fit(data, splits, config.train_config(SYNTHETIC_TASKS["synth-prognostic"]))
    assert store.record(run_key(config, ["c"]), config, result, ["c"], {"device": "cpu"})
    seeds = store.seed_metrics()
    assert len(seeds) == 4 and list(seeds["n_train"][:2]) == [40, 36]
    assert seeds["final_auc"].between(0, 1).all()
    assert len(store.curves()) == 2 * 2 * 2


def test_an_older_file_gains_new_config_columns_with_the_next_record(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    sweep.record(ResultsStore(path), task="synth-age", backbone="mrm", fraction=0.1)
    with sqlite3.connect(path) as connection:
        connection.execute('ALTER TABLE runs DROP COLUMN "tiny"')
    store = ResultsStore(path)
    assert "tiny" not in store.runs().columns
    sweep.record(store, task="synth-age", backbone="mrm", fraction=0.5)
    runs = store.runs()
    assert "tiny" in runs.columns and store.config_columns()[-1] == "tiny"
    assert pd.isna(runs["tiny"].iloc[0]) and runs["tiny"].iloc[1] == 0


class _OtherConfig(BaseModel):
    """A config that is not a RunConfig: the store keeps any model with a canonical text."""

    task: str
    rate: float | None = None

    def canonical(self) -> str:
        return self.model_dump_json()


def test_the_store_keeps_a_config_as_data_typed_by_its_fields(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    done = sweep.record(store, task="synth-age", backbone="mrm", fraction=0.1)
    other = _OtherConfig(task="synth-age")
    assert store.record("other", other, done.result, [])
    runs = store.runs().set_index("run_key")
    assert runs.loc["other", "config"] == other.canonical()
    assert runs["rate"].dtype == float and runs["rate"].isna().all()
    assert list(store.config_columns()) == [*CONFIG_COLUMNS, "rate"]


def test_readers_refuse_a_store_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(RadsweepError, match="no results store"):
        ResultsStore.open_existing(tmp_path / "nothing.sqlite")
    assert not (tmp_path / "nothing.sqlite").exists()


def test_a_reader_opens_the_store_read_only_and_writes_nothing(
    store: ResultsStore, tmp_path: Path
) -> None:
    done = sweep.record(store, task="synth-prognostic", backbone="c2l", fraction=0.5)
    path = store.path
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        reader = ResultsStore.open_existing(path)
        assert len(reader.runs()) == 1
        with pytest.raises(RadsweepError, match="readonly"):
            reader.record("another-key", done.config, done.result, [])
    finally:
        path.chmod(0o644)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b""])
def test_a_damaged_or_foreign_file_is_named_not_a_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "results.sqlite"
    path.write_bytes(content)
    with pytest.raises(RadsweepError, match=str(path)) as caught:
        ResultsStore.open_existing(path)
    assert caught.value.hint
    with pytest.raises(RadsweepError, match=str(path)):
        ResultsStore(path) if content else ResultsStore.open_existing(path)


def test_a_teacher_is_kept_once_and_read_back_whole(store: ResultsStore) -> None:
    record = sweep.teacher_record()
    assert store.teacher("t1") is None
    assert store.record_teacher("t1", '{"method":"distill"}', ["b", "a"], record)
    other = sweep.teacher_record(shift=1.0)
    assert not store.record_teacher("t1", "{}", [], other)  # the first one stays
    back = store.teacher("t1")
    assert back is not None and back.seeds == record.seeds and back.views == record.views
    for mine, theirs in zip(record.logits + record.rows, back.logits + back.rows, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    for curves in (back.curves, back.selection):
        assert curves is not None
        np.testing.assert_array_equal(curves.auc, record.curves.auc)
        np.testing.assert_array_equal(curves.selected, record.curves.selected)
    kept = store.teachers()
    assert kept["teacher_key"].tolist() == ["t1"] and kept["cache_keys"][0] == '["a", "b"]'
    assert kept["bytes"][0] > 0
    assert store.drop_teachers(["t1", "unknown"]) == 1 and store.teacher("t1") is None


def _teacher_writer(path: str, start: "multiprocessing.synchronize.Event", queue) -> None:
    start.wait()
    queue.put(ResultsStore(Path(path)).record_teacher("raced", "{}", [], sweep.teacher_record()))


def test_two_processes_racing_for_one_teacher_keep_it_once(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    ResultsStore(path)
    context = multiprocessing.get_context("fork")
    start, queue = context.Event(), context.Queue()
    workers = [
        context.Process(target=_teacher_writer, args=(str(path), start, queue)) for _ in (0, 1)
    ]
    for worker in workers:
        worker.start()
    start.set()
    wins = sorted(queue.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert wins == [False, True]
    assert len(ResultsStore(path).teachers()) == 1


def test_an_older_file_read_only_lists_no_teachers(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    ResultsStore(path)
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE teachers")
    assert ResultsStore.open_existing(path).teachers().empty


def test_a_version_1_files_held_out_best_metrics_are_cleared_not_trusted(tmp_path: Path) -> None:
    """Version 1 read a held-out run's best metrics where the test rows peaked: they go, while
    a run the validation rows both chose and scored keeps its own."""
    path = tmp_path / "results.sqlite"
    store = ResultsStore(path)
    point = {"task": "synth-prognostic", "backbone": "c2l", "fraction": 0.1}
    held_out = sweep.record(store, **point)
    validation = sweep.record(store, **point, scoring="validation")
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 1")
    best = ["best_auc", "best_auprc", "best_epoch"]

    def rows(reader: ResultsStore, key: str) -> pd.DataFrame:
        return reader.seed_metrics(key)[best]

    for reader in (ResultsStore.open_existing(path), ResultsStore(path)):
        assert rows(reader, held_out.key).isna().all().all()
        np.testing.assert_allclose(
            rows(reader, validation.key)["best_auc"], validation.result.model.best_auc
        )
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
        kept = connection.execute(
            "SELECT COUNT(*) FROM seed_metrics WHERE best_auc IS NULL"
        ).fetchone()[0]
    assert kept == len(sweep.SEEDS)
