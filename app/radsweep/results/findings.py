"""Did the report help? The paper's three paired comparisons, read off result rows.

Per backbone, task and training fraction: the final-epoch AUC of image-only, teacher, distillation
and self-distillation, and three gains paired by seed (a seed fixes the training subset and the
initialisation, so differences within a seed cancel both): distillation - image-only,
self-distillation - image-only, and distillation - self-distillation. The last one is the paper's
control: only it separates what the report's content adds from what soft targets alone add.
The demo's terminal table, ``report.html``'s opening section and ``radsweep screen`` all read
these same findings.

Every gain knows its power: with its number of seeds it carries the smallest effect those seeds
could resolve, the half-width of its 95 % t-interval (t_{0.975, n-1} · sd / √n, from the observed
spread): a true gain below it would give an interval that contains zero. A control whose
interval contains zero and is wider than ``RESOLUTION`` is "not resolved", never "no gain". When
findings were measured on several benchmark draws (``pool_draws``), "the report helped" also
needs the control to exclude zero on every draw.
"""

import re
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np
import pandas as pd

from radsweep.stats import Interval, t_interval

LEVEL = 0.95
DRAW = re.compile(r"^(?P<task>.+)\.draw(?P<draw>\d+)$")
"""A task built from another draw of a benchmark (``synth-prognostic.draw1``): a replicate."""
RESOLUTION = 0.01
"""The smallest AUC gain a finding must be able to resolve before it may say "no gain": one AUC
point, the screen's smallest gain worth acting on."""
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

    @property
    def resolvable(self) -> float:
        """The smallest gain these seeds could resolve: the interval's half-width."""
        return self.interval.half_width


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
    # The control on each benchmark draw, when the finding pools several (``pool_draws``).
    replicates: tuple[Interval, ...] = ()
    # Training images per seed (the median over the image-only arm's seeds; None: not stored).
    n_train: float | None = field(default=None, compare=False)

    @property
    def replicated(self) -> tuple[int, int]:
        """(draws whose control excludes zero on the pooled control's side, draws run)."""
        side = 1.0 if self.control_gain.mean >= 0 else -1.0
        held = sum(1 for draw in self.replicates if side * draw.low > 0 or side * draw.high < 0)
        return held, len(self.replicates)

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
        """One line: whether the report helped here, whether the control says it was the
        report's content rather than soft targets, and what the seeds could not resolve."""
        control = self.control_gain
        if control.n < 2:
            return "one seed: no interval, no verdict"
        could = f"could detect >= {control.half_width:.3f} with {control.n} seeds"
        held, draws = self.replicated
        if control.low > 0 and self.distill_gain.low > 0:
            if held < draws:
                return f"not replicated: the control excluded 0 on {held} of {draws} draws"
            where = f", replicated on {held} of {draws} draws" if draws else ""
            return "the report helped: distillation beats image-only and self-distillation" + where
        if control.high < 0:
            return "the report hurt: distillation falls below self-distillation"
        if control.low > 0:
            return "distillation beats self-distillation but not image-only: no verdict"
        if control.half_width > RESOLUTION:
            return f"not resolved ({could})"
        if self.distill_gain.low > 0:
            return (
                "distillation helps, as much as self-distillation: soft targets, not the "
                f"report ({could})"
            )
        return f"no paired gain from the report ({could})"


def paired_findings(seed_metrics: pd.DataFrame, level: float = LEVEL) -> list[Finding]:
    """Findings for every backbone x task x fraction whose four arms all have rows.

    ``seed_metrics`` is ``ResultFrames.seed_metrics``: one row per run, seed and stage, with
    ``backbone``, ``task``, ``fraction``, ``method``, ``stage``, ``seed`` and ``final_auc``.
    """
    result: list[Finding] = []
    keys = ["backbone", "task", "fraction"]
    if seed_metrics.empty:  # a store without runs has no config columns yet
        return result
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
                n_train=_training_images(group),
            )
        )
    return result


def _training_images(rows: pd.DataFrame) -> float | None:
    """The median training-set size of the image-only arm's seeds (None where not stored)."""
    if "n_train" not in rows:
        return None
    sizes = rows.loc[(rows["method"] == "image") & (rows["stage"] == "model"), "n_train"].dropna()
    return float(sizes.median()) if len(sizes) else None


def _per_seed(rows: pd.DataFrame, method: str, stage: str) -> pd.Series:
    chosen = rows[(rows["method"] == method) & (rows["stage"] == stage)]
    return chosen.drop_duplicates("seed").set_index("seed")["final_auc"]


def _paired(student: pd.Series, baseline: pd.Series) -> pd.Series:
    """Per-seed differences over the seeds both arms ran."""
    return (student - baseline).dropna().sort_index()


def _gain(student: pd.Series, baseline: pd.Series, level: float) -> Interval:
    return t_interval(np.asarray(_paired(student, baseline)), level)


def pool_draws(draws: list[list[Finding]]) -> list[Finding]:
    """One finding per backbone, task and fraction measured on every benchmark draw: gains over
    all (draw, seed) pairs, and each draw's control kept as a replicate for the verdict.

    Seeds of different draws are different units (another benchmark), so the pooled seeds are
    numbered ``draw * 10_000 + seed`` in the per-seed differences.
    """
    keyed = [{(f.backbone, f.task, f.fraction): f for f in found} for found in draws]
    shared = set.intersection(*(set(found) for found in keyed)) if keyed else set()
    pooled = []
    for key in sorted(shared):
        parts = [found[key] for found in keyed]
        deltas = {
            label: tuple(
                (index * 10_000 + seed, delta)
                for index, part in enumerate(parts)
                for seed, delta in part.deltas.get(label, ())
            )
            for _, _, label in COMPARISONS
        }
        intervals = [
            t_interval(np.array([d for _, d in deltas[label]])) for *_, label in COMPARISONS
        ]
        pooled.append(
            Finding(
                backbone=key[0],
                task=key[1],
                fraction=key[2],
                image=float(np.mean([part.image for part in parts])),
                teacher=float(np.mean([part.teacher for part in parts])),
                distill=float(np.mean([part.distill for part in parts])),
                self_distill=float(np.mean([part.self_distill for part in parts])),
                distill_gain=intervals[0],
                self_distill_gain=intervals[1],
                control_gain=intervals[2],
                deltas=deltas,
                replicates=tuple(part.control_gain for part in parts),
                n_train=_median([part.n_train for part in parts]),
            )
        )
    return pooled


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return float(np.median(known)) if known else None


def replicated_findings(found: list[Finding]) -> list[Finding]:
    """Findings with every benchmark draw of a task pooled into one (``pool_draws``).

    A task ``NAME.drawK`` is draw K of task ``NAME`` (draw 0 is ``NAME`` itself). Where a
    backbone, task and fraction was measured on one draw only, its finding is kept as it is.
    """
    groups: dict[tuple[str, str, float], list[Finding]] = {}
    for finding in found:
        match = DRAW.match(finding.task)
        base = match["task"] if match else finding.task
        groups.setdefault((finding.backbone, base, finding.fraction), []).append(
            replace(finding, task=base)
        )
    result = []
    for key in sorted(groups):
        group = groups[key]
        result.extend(group if len(group) == 1 else pool_draws([[part] for part in group]))
    return result
