"""The modality probes: pooling respects the mask, the probe's AUC is scikit-learn's."""

import numpy as np
import pytest

from radsweep.screen.probe import pooled_image, pooled_text, probe_aucs
from radsweep.training.inputs import SeedSplit


def test_text_pooling_averages_real_tokens_only() -> None:
    tokens = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]], dtype=np.float16)
    mask = np.array([[True, True, False]])
    assert pooled_text(tokens, mask).tolist() == [[2.0, 3.0]]
    # A report with no token at all pools to zeros, not NaN.
    assert pooled_text(tokens, np.zeros_like(mask)).tolist() == [[0.0, 0.0]]


def test_image_pooling_reads_the_centre_view() -> None:
    tokens = np.zeros((2, 1, 4, 3), dtype=np.float16)  # [views, samples, tokens, dim]
    tokens[0, 0] = np.arange(12).reshape(4, 3)
    tokens[1, 0] = 1000  # an augmented view: ignored
    assert pooled_image(tokens).tolist() == [[4.5, 5.5, 6.5]]


def _splits(n: int, seeds: int = 3) -> list[SeedSplit]:
    rng = np.random.default_rng(0)
    splits = []
    for seed in range(seeds):
        order = rng.permutation(n)
        splits.append(SeedSplit(seed, np.sort(order[: n // 2]), np.sort(order[n // 2 :])))
    return splits


def test_a_separable_label_scores_one_and_noise_scores_about_half() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, size=400)
    signal = labels[:, None] + 0.05 * rng.standard_normal((400, 4))
    noise = rng.standard_normal((400, 4))
    assert probe_aucs(signal, labels, _splits(400), 2) == pytest.approx([1.0, 1.0, 1.0])
    assert abs(probe_aucs(noise, labels, _splits(400), 2).mean() - 0.5) < 0.1


def test_a_class_missing_from_a_seeds_training_rows_scores_zero_probability() -> None:
    labels = np.array([0, 1, 0, 1, 2, 0, 1, 2])
    features = np.eye(3)[labels] + 0.01
    split = SeedSplit(0, np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7]))  # no class 2 to learn
    [auc] = probe_aucs(features, labels, [split], 3)
    assert 0.0 <= auc <= 1.0
