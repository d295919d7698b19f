"""Confidence intervals across seeds: the study reports means with 90 % or 95 % intervals."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats


@dataclass(frozen=True)
class Interval:
    """A mean and its two-sided t-interval (NaN bounds for a single seed)."""

    mean: float
    low: float
    high: float
    level: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def t_interval(values: npt.ArrayLike, level: float = 0.95) -> Interval:
    """Student-t interval of the mean: with ~5 seeds a normal quantile would be too narrow."""
    values = np.asarray(values, dtype=np.float64)
    mean, n = float(values.mean()), int(values.size)
    if n < 2:
        return Interval(mean, float("nan"), float("nan"), level, n)
    half = float(stats.t.ppf((1 + level) / 2, df=n - 1) * values.std(ddof=1) / np.sqrt(n))
    return Interval(mean, mean - half, mean + half, level, n)
