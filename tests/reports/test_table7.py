"""Table 7's best image model: chosen on rows that score nothing, where the runs kept them."""

from pathlib import Path

import numpy as np

from radsweep.reports.points import with_series
from radsweep.reports.table7 import PICKED_ON_SCORES, PICKED_ON_SELECTION, table7
from radsweep.results.store import ResultsStore
from tests.results import sweep

POINT = {"task": "synth-prognostic", "fraction": 0.1}


def _table(store: ResultsStore):
    return table7(with_series(store.seed_metrics())).data.iloc[0]


def test_the_best_image_model_is_picked_on_the_selection_rows(tmp_path: Path) -> None:
    """RAD-DINO scores higher on the test rows; C2L is better where the choice may look."""
    store = ResultsStore(tmp_path / "results.sqlite")
    chosen = np.zeros(len(sweep.SEEDS), dtype=int)
    sweep.record(store, **POINT, method="text")
    sweep.record(store, **POINT, backbone="rad-dino", selected=chosen)
    c2l = sweep.record(store, **POINT, backbone="c2l", selected=chosen, selection_shift=0.05)
    row = _table(store)
    assert row.image_run_key == c2l.key and row.image_picked_on == PICKED_ON_SELECTION
    assert row.image_mean == np.mean(c2l.result.model.final_auc)  # and scored on the test rows


def test_without_selection_rows_the_pick_is_the_papers(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    sweep.record(store, **POINT, method="text")
    radding = sweep.record(store, **POINT, backbone="rad-dino", scoring="validation")
    sweep.record(store, **POINT, backbone="c2l", selected=np.zeros(3, int), selection_shift=0.05)
    row = _table(store)
    assert row.image_run_key == radding.key and row.image_picked_on == PICKED_ON_SCORES
    assert "picked on" in table7(with_series(store.seed_metrics())).table.columns
