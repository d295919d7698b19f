"""Did the report help? The paper's three paired comparisons, read off result rows.

Per backbone, task and training fraction: the final-epoch AUC of image-only, teacher, distillation
and self-distillation, and three gains paired by seed (a seed fixes the training subset and the
initialisation, so differences within a seed cancel both): distillation - image-only,
self-distillation - image-only, and distillation - self-distillation. The last one is the paper's
control: only it separates what the report's content adds from what soft targets alone add.
The demo's terminal table, ``report.html``'s opening section and ``radsweep screen`` all read
these same findings.
"""

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from radsweep.stats import Interval, t_interval

LEVEL = 0.95
# The three paired comparisons, in reading order: (student, baseline) and the label shown.
COMPARISONS = (
    ("distill", "image", "distill - image"),
    ("self-distill", "image", "self-distill - image"),
    ("distill", "self-distill", "distill - self-distill"),
)


@dataclass(frozen=True)
class Gain:
    """One paired comparison: its label, t-interval and the per-seed differences behind it."""

    label: str
    interval: Interval
    seeds: tuple[int, ...]
    deltas: tuple[float, ...]


@dataclass(frozen=True)
class Finding:
    """One backbone, task and training fraction: each arm's mean AUC and the paired gains."""

    backbone: str
    task: str
    fraction: float
    image: float
    teacher: float
    distill: float
    self_distill: float
    distill_gain: Interval  # distillation - image-only
    self_distill_gain: Interval  # self-distillation - image-only
    control_gain: Interval  # distillation - self-distillation: what the report's content adds
    # Per comparison label, the (seed, difference) pairs the intervals were computed from.
    deltas: dict[str, tuple[tuple[int, float], ...]] = field(default_factory=dict, compare=False)

    @property
    def gains(self) -> tuple[Gain, ...]:
        """The three comparisons with their per-seed differences (for forest plots)."""
        intervals = (self.distill_gain, self.self_distill_gain, self.control_gain)
        result = []
        for (_, _, label), interval in zip(COMPARISONS, intervals, strict=True):
            pairs = self.deltas.get(label, ())
            seeds = tuple(seed for seed, _ in pairs)
            result.append(Gain(label, interval, seeds, tuple(delta for _, delta in pairs)))
        return tuple(result)

    @property
    def verdict(self) -> str:
        """One line: whether the report helped here, and whether the control says it was the
        report's content rather than soft targets."""
        if self.control_gain.n < 2:
            return "one seed: no interval, no verdict"
        if self.control_gain.low > 0 and self.distill_gain.low > 0:
            return "the report helped: distillation beats image-only and self-distillation"
        if self.distill_gain.low > 0:
            return "distillation helps, as much as self-distillation: soft targets, not the report"
        if self.control_gain.high < 0:
            return "the report hurt: distillation falls below self-distillation"
        return "no paired gain from the report"


def paired_findings(seed_metrics: pd.DataFrame, level: float = LEVEL) -> list[Finding]:
    """Findings for every backbone x task x fraction whose four arms all have rows.

    ``seed_metrics`` is ``ResultFrames.seed_metrics``: one row per run, seed and stage, with
    ``backbone``, ``task``, ``fraction``, ``method``, ``stage``, ``seed`` and ``final_auc``.
    """
    result = []
    keys = ["backbone", "task", "fraction"]
    for (backbone, task, fraction), group in seed_metrics.groupby(keys, sort=True):
        arms = {
            "image": _per_seed(group, "image", "model"),
            "teacher": _per_seed(group, "distill", "teacher"),
            "distill": _per_seed(group, "distill", "model"),
            "self-distill": _per_seed(group, "self-distill", "model"),
        }
        if any(arm.empty for arm in arms.values()):
            continue
        result.append(
            Finding(
                backbone=str(backbone),
                task=str(task),
                fraction=float(cast(float, fraction)),  # groupby keys are typed Hashable
                image=float(arms["image"].mean()),
                teacher=float(arms["teacher"].mean()),
                distill=float(arms["distill"].mean()),
                self_distill=float(arms["self-distill"].mean()),
                distill_gain=_gain(arms["distill"], arms["image"], level),
                self_distill_gain=_gain(arms["self-distill"], arms["image"], level),
                control_gain=_gain(arms["distill"], arms["self-distill"], level),
                deltas={
                    label: tuple(
                        (int(cast(int, seed)), float(delta))
                        for seed, delta in _paired(arms[student], arms[base]).items()
                    )
                    for student, base, label in COMPARISONS
                },
            )
        )
    return result


def _per_seed(rows: pd.DataFrame, method: str, stage: str) -> pd.Series:
    chosen = rows[(rows["method"] == method) & (rows["stage"] == stage)]
    return chosen.drop_duplicates("seed").set_index("seed")["final_auc"]


def _paired(student: pd.Series, baseline: pd.Series) -> pd.Series:
    """Per-seed differences over the seeds both arms ran."""
    return (student - baseline).dropna().sort_index()


def _gain(student: pd.Series, baseline: pd.Series, level: float) -> Interval:
    return t_interval(np.asarray(_paired(student, baseline)), level)
