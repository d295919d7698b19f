"""What a fit's curves say is best: an epoch chosen where nothing is scored, when there is one."""

import numpy as np

from radsweep.training.results import Curves

AUC = np.array([[0.6, 0.8, 0.7], [0.9, np.nan, 0.5]])


def test_held_out_curves_are_best_at_the_epoch_the_selection_rows_chose() -> None:
    curves = Curves(auc=AUC, auprc=AUC - 0.1, loss=np.ones_like(AUC), selected=np.array([2, 0]))
    np.testing.assert_array_equal(curves.best_epoch, [2, 0])
    np.testing.assert_allclose(curves.best_auc, [0.7, 0.9])  # not seed 0's test peak, 0.8
    np.testing.assert_allclose(curves.best_auprc, [0.6, 0.8])


def test_without_a_selection_the_best_epoch_is_the_validated_peak() -> None:
    curves = Curves(auc=AUC, auprc=AUC - 0.1, loss=np.ones_like(AUC))
    np.testing.assert_array_equal(curves.best_epoch, [1, 0])  # NaN (not validated) never counts
    np.testing.assert_allclose(curves.best_auc, [0.8, 0.9])
