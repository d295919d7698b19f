"""Did the report help? The paper's three paired comparisons, read off result rows.

Per backbone, task and training fraction: the final-epoch AUC of image-only, teacher, distillation
and self-distillation, and three gains paired by seed (a seed fixes the training subset and the
initialisation, so differences within a seed cancel both): distillation - image-only,
self-distillation - image-only, and distillation - self-distillation. The last one is the paper's
control: only it separates what the report's content adds from what soft targets alone add.
The demo's terminal table, ``report.html``'s opening section and ``radsweep screen`` all read
these same findings.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from radsweep.stats import Interval, t_interval

LEVEL = 0.95


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
                fraction=float(fraction),
                image=float(arms["image"].mean()),
                teacher=float(arms["teacher"].mean()),
                distill=float(arms["distill"].mean()),
                self_distill=float(arms["self-distill"].mean()),
                distill_gain=_gain(arms["distill"], arms["image"], level),
                self_distill_gain=_gain(arms["self-distill"], arms["image"], level),
                control_gain=_gain(arms["distill"], arms["self-distill"], level),
            )
        )
    return result


def _per_seed(rows: pd.DataFrame, method: str, stage: str) -> pd.Series:
    chosen = rows[(rows["method"] == method) & (rows["stage"] == stage)]
    return chosen.drop_duplicates("seed").set_index("seed")["final_auc"]


def _gain(student: pd.Series, baseline: pd.Series, level: float) -> Interval:
    paired = (student - baseline).dropna()
    return t_interval(np.asarray(paired), level)
