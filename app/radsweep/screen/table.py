"""The screen's numbers as one long table: what the terminal shows and W&B logs.

Numbers only (AUCs, paired gains, sample counts): nothing of a report or an image.
"""

import math
from typing import Any

import pandas as pd

from radsweep.screen.run import Screen
from radsweep.stats import Interval

COLUMNS = ["quantity", "fraction", "train_samples", "mean", "ci95_low", "ci95_high", "seeds"]


def _row(
    quantity: str, fraction: float, train: int | None, value: Interval | float
) -> dict[str, Any]:
    if isinstance(value, Interval):
        low, high, mean, seeds = value.low, value.high, value.mean, value.n
    else:
        low, high, mean, seeds = math.nan, math.nan, value, None
    return dict(zip(COLUMNS, [quantity, fraction, train, mean, low, high, seeds], strict=True))


def screen_table(screen: Screen) -> pd.DataFrame:
    """Probes on the full pool, then per fraction each arm's mean AUC and the paired gains."""
    train = {size.fraction: size.train for size in screen.sizes}
    rows = []
    probes = screen.modalities
    rows.append(_row("text only (probe)", 1.0, probes.train, probes.text))
    rows.append(_row("image only (probe)", 1.0, probes.train, probes.image))
    if probes.added is not None:
        rows.append(_row("image+report - image (probes)", 1.0, probes.train, probes.added))
    headroom = {point.fraction: point.gain for point in screen.headroom}
    for finding in screen.findings:
        fraction, size = finding.fraction, train.get(finding.fraction)
        rows += [
            _row("image only", fraction, size, finding.image),
            _row("teacher", fraction, size, finding.teacher),
            _row("self-distill", fraction, size, finding.self_distill),
            _row("distill", fraction, size, finding.distill),
        ]
        if fraction in headroom:
            rows.append(_row("teacher - image", fraction, size, headroom[fraction]))
        rows += [
            _row("self-distill - image", fraction, size, finding.self_distill_gain),
            _row("distill - image", fraction, size, finding.distill_gain),
            _row("distill - self-distill", fraction, size, finding.control_gain),
        ]
    return pd.DataFrame(rows, columns=COLUMNS)
