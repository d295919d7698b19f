"""The report's opening section: did the report help? Paired gains per task and fraction.

Every number comes from ``radsweep.results.findings.paired_findings``, the one definition the
demo's terminal table and ``radsweep screen`` read too; benchmark draws of one task
(``NAME.drawK``) are pooled into one finding with the draws as replicates. The forest plot shows,
per backbone, task and fraction, the three paired comparisons: each seed's difference as a dot, the
mean as a diamond and its t-interval as a bar. An arm's own unpaired interval can overlap another's
while the paired difference is clearly above zero, because a seed fixes the subset and the
initialisation that both arms share; the paired plot is the one that answers the question.
"""

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from radsweep.reports.section import MAX_WIDTH, Section, empty
from radsweep.reports.style import OKABE_ITO, backbone_label, task_title
from radsweep.results.findings import (
    COMPARISONS,
    LEVEL,
    Finding,
    paired_findings,
    replicated_findings,
)

NAME = "findings"
TITLE = "Did the report help? Paired findings"
_ABOVE, _BELOW, _NEITHER = OKABE_ITO[2], OKABE_ITO[1], "#555555"
_ROW_HEIGHT = 0.42  # inches per finding row


def _size(finding: Finding) -> str:
    """A fraction as the training images it means (``n = 150``), the fraction beside it."""
    if finding.n_train is None:
        return f"fraction {finding.fraction:g}"
    return f"n = {finding.n_train:,.0f} (fraction {finding.fraction:g})"


def _label(finding: Finding, backbones: int) -> str:
    where = f"{task_title(finding.task)}, {_size(finding)}"
    return f"{where} ({backbone_label(finding.backbone)})" if backbones > 1 else where


def _interval_text(mean: float, low: float, high: float) -> str:
    if np.isnan(low):
        return f"{mean:+.3f}"
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def findings_table(found: list[Finding]) -> pd.DataFrame:
    """One row per finding: the arms' mean AUC, the three paired gains and the verdict."""
    rows = []
    for finding in found:
        row: dict[str, object] = {
            "backbone": finding.backbone,
            "task": finding.task,
            "fraction": finding.fraction,
            "n_train": finding.n_train,
            "seeds": finding.control_gain.n,
            "image": finding.image,
            "teacher": finding.teacher,
            "self-distill": finding.self_distill,
            "distill": finding.distill,
        }
        for gain in finding.gains:
            interval = gain.interval
            row[f"{gain.label} mean"] = interval.mean
            row[f"{gain.label} low"] = interval.low
            row[f"{gain.label} high"] = interval.high
            row[f"{gain.label} resolvable"] = gain.resolvable
        row["verdict"] = finding.verdict
        rows.append(row)
    return pd.DataFrame(rows)


def _shown_table(found: list[Finding]) -> pd.DataFrame:
    """The table as the page shows it: where (task, training images) and the verdict first, so
    an 800 px screen shows the answer before the table scrolls; then the AUCs to 3 decimals and
    each gain with its interval."""
    rows = []
    for finding in found:
        row = {
            "task": task_title(finding.task),
            "training images": _size(finding).removeprefix("n = "),
            "verdict": finding.verdict,
            "backbone": backbone_label(finding.backbone),
            "seeds": str(finding.control_gain.n),
            "image only": f"{finding.image:.3f}",
            "teacher": f"{finding.teacher:.3f}",
            "self-distill": f"{finding.self_distill:.3f}",
            "distill": f"{finding.distill:.3f}",
        }
        for gain in finding.gains:
            interval = gain.interval
            row[gain.label] = _interval_text(interval.mean, interval.low, interval.high)
        control = finding.gains[-1]
        row["control resolves"] = f">= {control.resolvable:.3f}" if control.interval.n > 1 else ""
        rows.append(row)
    return pd.DataFrame(rows)


def _colour(low: float, high: float) -> str:
    if low > 0:
        return _ABOVE
    return _BELOW if high < 0 else _NEITHER


def _forest_panel(ax: Axes, found: list[Finding], column: int, labels: list[str]) -> None:
    positions = np.arange(len(found))[::-1]
    for y, finding in zip(positions, found, strict=True):
        gain = finding.gains[column]
        interval = gain.interval
        colour = _colour(interval.low, interval.high)
        jitter = np.linspace(-0.15, 0.15, len(gain.deltas)) if gain.deltas else np.array([])
        ax.scatter(gain.deltas, y + np.asarray(jitter), s=9, color="#9a9a9a", zorder=2)
        if not np.isnan(interval.low):
            ax.plot([interval.low, interval.high], [y, y], color=colour, linewidth=2.2, zorder=3)
        ax.scatter([interval.mean], [y], marker="D", s=30, color=colour, zorder=4)
    ax.axvline(0.0, color="#000000", linewidth=0.8, zorder=1)
    if column == 0:  # the panels share the y axis: its labels are set once, shown on the left
        ax.set_yticks(positions, labels)
    ax.set_ylim(-0.7, len(found) - 0.3)
    ax.set_title(COMPARISONS[column][2])
    ax.set_xlabel("paired difference in AUC")


def forest_figure(found: list[Finding]) -> Figure:
    """Three panels (the comparisons) sharing one row per finding."""
    backbones = len({finding.backbone for finding in found})
    labels = [_label(finding, backbones) for finding in found]
    height = 1.3 + _ROW_HEIGHT * len(found)
    figure = Figure(figsize=(MAX_WIDTH, height), layout="constrained")
    axes = figure.subplots(1, len(COMPARISONS), sharey=True, sharex=True)
    for column, ax in enumerate(axes):
        _forest_panel(ax, found, column, labels)
    figure.suptitle(
        f"Paired gains in final-epoch AUC: dots are seeds, diamonds means, "
        f"bars {LEVEL:.0%} t-intervals"
    )
    return figure


def scoring_note(seed_metrics: pd.DataFrame) -> str:
    """Which rows the numbers were scored on (runs stored before held-out scoring: validation)."""
    used = set(seed_metrics["scoring"].fillna("validation")) if "scoring" in seed_metrics else set()
    notes = {
        "held-out": "held-out rows: each seed's test split, which selected nothing (the "
        "teacher's epoch was chosen on the other half of its evaluation rows)",
        "validation": "validation rows that also chose the teacher's epoch (not held out)",
    }
    if not used:
        used = {"validation"}
    return "Scored on " + "; and on ".join(notes.get(kind, kind) for kind in sorted(used)) + "."


def findings_section(seed_metrics: pd.DataFrame) -> Section:
    """The report's first section: findings table with verdicts and the paired forest plot."""
    caption = (
        "Per backbone, task and training fraction: distillation from a teacher that reads the "
        "report, self-distillation from an image-only teacher, and image-only training, compared "
        "seed by seed (a seed fixes the training subset and the initialisation for every arm). "
        "distill - self-distill is the control: only a gain there is the report's content rather "
        f"than soft targets alone. Intervals are {LEVEL:.0%} Student-t intervals of the paired "
        "differences; 'control resolves' is their half-width, the smallest gain these seeds "
        "could tell from zero. " + scoring_note(seed_metrics)
    )
    found = replicated_findings(paired_findings(seed_metrics)) if not seed_metrics.empty else []
    if not found:
        why = "no grid point has image-only, distillation (with its teacher) and self-distillation"
        return empty(NAME, TITLE, caption, why)
    return Section(
        NAME,
        TITLE,
        caption,
        findings_table(found),
        forest_figure(found),
        table=_shown_table(found),
    )
