"""Exports: the three tables round-trip through parquet and CSV."""

from pathlib import Path

import pandas as pd
import pytest

from radsweep.results.export import ExportFormat, export_tables
from radsweep.results.frames import ResultFrames
from radsweep.results.rows import seed_metrics_from_curves
from radsweep.results.store import ResultsStore
from tests.results import sweep


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> ResultFrames:
    store = ResultsStore(tmp_path_factory.mktemp("store") / "results.sqlite")
    sweep.main_grid(store, tasks=("synth-prognostic",), fractions=(0.1,))
    return ResultFrames.from_store(store)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_export_round_trips(frames: ResultFrames, fmt: ExportFormat, tmp_path: Path) -> None:
    written = export_tables(frames, tmp_path / "out", fmt)
    assert [path.name for path in written] == [
        f"{name}.{fmt.value}" for name in ("runs", "seed_metrics", "curves")
    ]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(
        path.name for path in written
    )  # no temporary files left
    for path, (name, table) in zip(written, frames.tables().items(), strict=True):
        back = pd.read_parquet(path) if fmt is ExportFormat.PARQUET else pd.read_csv(path)
        assert len(back) == len(table) > 0, name
        assert list(back.columns) == list(table.columns)
        numeric = table.select_dtypes("number").columns
        pd.testing.assert_frame_equal(
            back[numeric].reset_index(drop=True),
            table[numeric].reset_index(drop=True),
            check_dtype=False,
        )
        assert list(back["run_key"]) == list(table["run_key"])


def test_per_seed_rows_can_be_rebuilt_from_the_curves(frames: ResultFrames) -> None:
    rebuilt = seed_metrics_from_curves(frames.curves)
    stored = frames.seed_metrics.sort_values(["run_key", "stage", "seed"]).reset_index(drop=True)
    columns = ["final_auc", "final_auprc", "best_auc", "best_auprc", "best_epoch"]
    pd.testing.assert_frame_equal(rebuilt[columns], stored[columns])
