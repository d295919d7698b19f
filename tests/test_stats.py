"""t-intervals across seeds agree with scipy's own interval."""

import math

import numpy as np
import pytest
from scipy import stats

from radsweep.stats import t_interval


def test_t_interval_matches_scipy() -> None:
    values = np.array([0.71, 0.74, 0.69, 0.75, 0.72])
    interval = t_interval(values, 0.9)
    low, high = stats.t.interval(0.9, df=4, loc=values.mean(), scale=stats.sem(values))
    assert interval.mean == pytest.approx(values.mean())
    assert (interval.low, interval.high) == pytest.approx((low, high))
    assert interval.half_width > 0


def test_single_seed_has_no_interval() -> None:
    interval = t_interval(np.array([0.8]))
    assert interval.mean == 0.8 and math.isnan(interval.low) and interval.n == 1
