"""``bench students``: the ratio is the median of each round's separate / grouped time."""

import pytest

from radsweep.bench.students import GRID, StudentsBench
from radsweep.runs.config import RunConfig


def test_the_ratio_pairs_each_round_and_is_printed_last() -> None:
    config = RunConfig(task="synth-prognostic", backbone="pixel-patches", fraction=0.1)
    bench = StudentsBench(config, rounds=((2.0, 5.0), (4.0, 6.0), (3.0, 9.0)))
    assert bench.speedup == pytest.approx(2.5)  # rounds' ratios 2.5, 1.5, 3.0
    assert bench.grouped_seconds == 3.0 and bench.separate_seconds == 6.0
    assert bench.lines()[-1] == "ratio separate/grouped: 2.50x"
    summary = bench.summary()
    assert summary["ratios"] == {"separate_over_grouped": pytest.approx(2.5)}
    assert summary["students"] == [{"tau": tau, "lam": lam} for tau, lam in GRID]
