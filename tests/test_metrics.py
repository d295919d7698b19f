import numpy as np
import pytest

from radsweep.metrics import auc, auprc


def test_binary_auc_counts_correctly_ordered_pairs() -> None:
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.6, 0.4, 0.9])  # 3 of 4 positive/negative pairs ordered right
    probabilities = np.stack([1 - scores, scores], axis=1)
    assert auc(labels, probabilities, 2) == pytest.approx(0.75)


def test_multiclass_auc_is_micro_one_vs_rest() -> None:
    labels = np.array([0, 1, 2])
    perfect = np.eye(3)
    assert auc(labels, perfect, 3) == pytest.approx(1.0)
    # Micro averaging pools all (sample, class) pairs: uniform scores give exactly 0.5.
    assert auc(labels, np.full((3, 3), 1 / 3), 3) == pytest.approx(0.5)


def test_auprc_of_perfect_and_inverted_scores() -> None:
    labels = np.array([0, 1, 0, 1])
    good = np.stack([1 - labels, labels], axis=1).astype(float)
    assert auprc(labels, good, 2) == pytest.approx(1.0)
    assert auprc(labels, good[:, ::-1].copy(), 2) == pytest.approx(0.5)
