"""``bench extract``: its measurement size and the ratio it reports."""

import pytest

from radsweep.bench.features import ExtractBench, Round, images_for_budget


def test_bench_extract_sizes_its_measurements_to_the_budget() -> None:
    # 2.5 images/s, 2 rounds of 2 measurements in 80 s: 20 s each, 50 images (6 batches of 8).
    assert images_for_budget(2.5, 8, 2, 80.0) == 50
    assert images_for_budget(7.0, 8, 2, 80.0) == 136
    assert images_for_budget(1e6, 8, 2, 80.0) == 256


def test_the_ratio_is_best_end_to_end_over_best_forward() -> None:
    rounds = [Round(10.0, 6.0, 0.5), Round(12.0, 5.0, 0.6)]
    bench = ExtractBench("ViT-B/16", 50, 8, 1, rounds)
    assert bench.ratio == 0.5 and bench.best is rounds[0]
    assert bench.lines()[-1] == "ratio end-to-end/forward throughput: 0.500"
    assert bench.summary()["ratios"] == {"end_to_end_over_forward": 0.5}
    assert bench.summary()["forward_images_per_second"] == pytest.approx(12.0)
