"""The on-device metrics agree with scikit-learn (radsweep.metrics) per seed, ties and padding."""

import numpy as np
import pytest
import torch

from radsweep import metrics
from radsweep.training.metrics import batched_auc, batched_auprc


def _random_case(rng: np.random.Generator, classes: int, sizes: list[int], ties: bool):
    longest = max(sizes)
    probabilities = rng.dirichlet(np.ones(classes), size=(len(sizes), longest))
    if ties:
        probabilities = np.round(probabilities * 4) / 4
    labels = rng.integers(0, classes, size=(len(sizes), longest))
    for row, size in enumerate(sizes):
        labels[row, :classes] = np.arange(classes)  # every class present
        labels[row, size:] = 0
    valid = np.arange(longest)[None, :] < np.array(sizes)[:, None]
    return probabilities, labels, valid


@pytest.mark.parametrize("classes", [2, 5])
@pytest.mark.parametrize("ties", [False, True])
def test_batched_metrics_match_scikit_learn(classes: int, ties: bool) -> None:
    rng = np.random.default_rng(classes + 10 * ties)
    sizes = [40, 57, 33]
    probabilities, labels, valid = _random_case(rng, classes, sizes, ties)
    tensors = (
        torch.tensor(probabilities, dtype=torch.float64),
        torch.tensor(labels),
        torch.tensor(valid),
    )
    aucs, auprcs = batched_auc(*tensors), batched_auprc(*tensors)
    for row, size in enumerate(sizes):
        y, p = labels[row, :size], probabilities[row, :size]
        assert aucs[row].item() == pytest.approx(metrics.auc(y, p, classes), abs=1e-12)
        assert auprcs[row].item() == pytest.approx(metrics.auprc(y, p, classes), abs=1e-12)


def test_perfect_and_inverted_rankings() -> None:
    labels = torch.tensor([[0, 0, 1, 1]])
    valid = torch.ones_like(labels, dtype=torch.bool)
    good = torch.tensor([[[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]]])
    assert batched_auc(good, labels, valid).item() == 1.0
    assert batched_auc(good.flip(-1), labels, valid).item() == 0.0
    assert batched_auprc(good, labels, valid).item() == 1.0
