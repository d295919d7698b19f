"""Reading results from W&B: runs as the tracker logs them become the store's tables."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radsweep.errors import RadsweepError
from radsweep.results.frames import ResultFrames
from radsweep.results.store import ResultsStore
from radsweep.tracking.reader import WandbRun, fetch_runs, frames_from_wandb_runs
from tests.results import sweep


def test_runs_logged_to_wandb_give_the_stores_tables(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    done = sweep.main_grid(store, tasks=("synth-prognostic",), fractions=(0.1,))
    skipped = WandbRun(
        "skipped",
        "2030",
        {**done[0].config.model_dump(mode="json"), "run_key": done[0].key},
        {"skipped": True},
        pd.DataFrame(),
    )
    foreign = WandbRun("other", "2030", {"lr": 0.1}, {}, pd.DataFrame({"epoch": [1]}))
    runs = [sweep.as_wandb_run(each, f"2026-01-01T00:00:{i:02d}") for i, each in enumerate(done)]
    frames = frames_from_wandb_runs([*runs, skipped, foreign], "W&B project e/p")
    stored = ResultFrames.from_store(store)

    assert frames.source == "W&B project e/p"
    assert sorted(frames.runs["run_key"]) == sorted(stored.runs["run_key"])
    columns = ["task", "backbone", "method", "head", "fraction", "tau", "lam", "seeds", "config"]
    by_key = frames.runs.set_index("run_key")[columns].sort_index()
    pd.testing.assert_frame_equal(by_key, stored.runs.set_index("run_key")[columns].sort_index())

    order = ["run_key", "stage", "seed"]
    ours = frames.seed_metrics.sort_values(order).reset_index(drop=True)
    theirs = stored.seed_metrics.sort_values(order).reset_index(drop=True)
    assert list(ours.columns) == list(theirs.columns)
    metrics = ["final_auc", "final_auprc", "best_auc", "best_epoch", "n_train", "n_validation"]
    pd.testing.assert_frame_equal(ours[order + metrics], theirs[order + metrics], check_dtype=False)
    assert len(frames.curves) == len(stored.curves)


def test_held_out_best_metrics_are_read_at_the_chosen_epoch_not_the_test_peak(
    tmp_path: Path,
) -> None:
    """The fixture's curves peak at the last epoch; the selection rows chose others."""
    store = ResultsStore(tmp_path / "results.sqlite")
    chosen = np.array([1, 0, 2])
    done = sweep.record(
        store,
        selected=chosen,
        task="synth-prognostic",
        backbone="c2l",
        method="distill",
        fraction=0.1,
    )
    stored = store.seed_metrics(done.key).sort_values(["stage", "seed"])
    for stage in ("model", "teacher"):
        rows = stored[stored["stage"] == stage]
        curves = done.result.model if stage == "model" else done.result.teacher
        assert curves is not None
        np.testing.assert_array_equal(rows["best_epoch"], chosen + 1)
        np.testing.assert_allclose(rows["best_auc"], curves.auc[[0, 1, 2], chosen])
        assert (rows["best_auc"] < curves.auc.max(axis=1)).all()

    selection = stored.set_index("stage")["selection_auc"]
    assert done.result.selection is not None
    np.testing.assert_allclose(selection["model"], done.result.selection.final_auc)
    assert selection["teacher"].isna().all()  # only a model's selection rows are kept

    logged = sweep.as_wandb_run(done, "2026-01-01")
    assert logged.summary["teacher/best_epoch/seed_2"] == 3
    frames = frames_from_wandb_runs([logged], "W&B project e/p")
    read = frames.seed_metrics.sort_values(["stage", "seed"])
    for column in ("best_auc", "best_auprc", "best_epoch", "selection_auc"):
        np.testing.assert_allclose(read[column], stored[column])

    older = {k: v for k, v in logged.summary.items() if "best_epoch/" not in k}
    frames = frames_from_wandb_runs([replace(logged, summary=older)], "W&B project e/p")
    assert (frames.seed_metrics["best_epoch"] == sweep.EPOCHS).all()  # logged before: the peak


def test_the_latest_run_of_a_key_wins_and_sizes_may_be_missing(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    done = sweep.record(store, task="synth-age", backbone="c2l", fraction=0.5)
    old = sweep.as_wandb_run(done, "2026-01-01")
    new = sweep.as_wandb_run(done, "2026-02-01", sizes=False)
    frames = frames_from_wandb_runs([new, old], "W&B project e/p")
    assert len(frames.runs) == 1 and '"wandb_id": "id-' in frames.runs["meta"].iloc[0]
    assert frames.runs["created_at"].iloc[0] == "2026-02-01"
    assert frames.seed_metrics["n_train"].isna().all()
    np.testing.assert_allclose(frames.seed_metrics["final_auc"], done.result.model.final_auc)


def test_a_project_without_radsweep_runs_is_an_error() -> None:
    with pytest.raises(RadsweepError, match="no finished radsweep runs"):
        frames_from_wandb_runs([], "W&B project e/p")


@pytest.mark.timeout(120)  # a hang guard: no answer must not mean no end
def test_wandb_without_a_server_is_one_clear_error() -> None:
    """Tests run with WANDB_MODE=offline and no API key (conftest): no server can be reached."""
    with pytest.raises(RadsweepError) as caught:
        fetch_runs("someone/radsweep")
    line = caught.value.one_line()
    assert line.startswith("cannot read runs of W&B project someone/radsweep:")
    assert "\n" not in line and "--from" in line


def test_a_malformed_project_path_is_refused() -> None:
    with pytest.raises(RadsweepError, match="not ENTITY/PROJECT"):
        fetch_runs("just-a-project")
