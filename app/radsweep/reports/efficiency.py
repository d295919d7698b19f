"""Metric against training-set size: sample efficiency per backbone (the paper's Figures 2 and 5)
and the Appendix C ablations (head type, τ, λ, text encoder; Figures 14-19)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from radsweep.reports.points import (
    describe,
    held_notes,
    latest_per_point,
    missing_points,
    point_stats,
    prefer,
)
from radsweep.reports.section import (
    Section,
    empty,
    interval_key,
    legend,
    lines,
    panels,
    sample_axis,
    seeds_text,
    x_values,
    y_label,
)
from radsweep.reports.style import (
    BASELINE,
    Palette,
    averaging,
    head_label,
    head_rank,
    metric_label,
    task_order,
    task_title,
)
from radsweep.reports.style import text_label as text_name
from radsweep.training.registry import PAPER_HEAD

SAMPLE_LEVEL = 0.90  # the paper's Figures 2 and 5
ABLATION_LEVEL = 0.95
IMAGE_ONLY = "image only (attention head)"


def image_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Image-only runs with the study's attention head: the sample-efficiency grid."""
    return rows[(rows["method"] == "image") & (rows["head"] == PAPER_HEAD)]


def _title(task: str, stats: pd.DataFrame, extra: str = "") -> str:
    validation = stats["n_validation"].median()
    size = f", validation n = {validation:,.0f}" if pd.notna(validation) else ""
    return f"{task_title(task)}{extra}{averaging(task)}\n({seeds_text(stats['seeds'])}{size})"


def sample_efficiency(rows: pd.DataFrame, palette: Palette, metric: str) -> Section:
    """One panel per task; one line per backbone; mean and 90 % t-interval across seeds."""
    name = f"sample-efficiency-{metric}"
    title = f"Sample efficiency ({metric.upper()})"
    caption = (
        f"Image-only models (attention head): final-epoch validation {metric.upper()} against "
        "the number of training images (log scale), one line per backbone; mean across seeds "
        "with a 90 % t-interval band (the paper's Figure "
        f"{2 if metric == 'auc' else 5})."
    )
    point = ["task", "series", "fraction"]
    image, notes = latest_per_point(image_rows(rows), point)
    stats = point_stats(image, point, f"final_{metric}", SAMPLE_LEVEL)
    if stats.empty:
        return empty(name, title, caption, "no image-only runs with the attention head")
    tasks = task_order(stats["task"])
    figure, axes = panels(len(tasks))
    for ax, task in zip(axes, tasks, strict=True):
        task_stats = stats[stats["task"] == task]
        x, label = x_values(task_stats)
        lines(ax, task_stats, "series", palette, x)
        sample_axis(ax, task_stats[x].to_numpy(), label)
        ax.set_title(_title(task, task_stats))
    y_label(axes, metric_label(metric))
    legend(figure, axes, interval_key(SAMPLE_LEVEL))
    missing = missing_points(stats, ["series", "fraction"])
    return Section(name, title, caption, stats, figure, missing, notes)


@dataclass(frozen=True)
class Ablation:
    """One factor varied with the others held at their main setting."""

    name: str
    title: str
    factor: str
    method: str
    held: tuple[str, ...]
    label: Callable[[Any], str]
    figures: str
    rank: Callable[[Any], Any] | None = None  # the order of the factor's values; None: by value


ABLATIONS = (
    Ablation(
        "ablation-head",
        "Ablation: fine-tuning head",
        "head",
        "image",
        (),
        head_label,
        "the paper's Figures 14 and 15",
        head_rank,
    ),
    Ablation(
        "ablation-tau",
        "Ablation: distillation temperature τ",
        "tau",
        "distill",
        ("lam", "text_encoder"),
        lambda value: f"τ = {value:g}",
        "the paper's Figures 16 and 17",
    ),
    Ablation(
        "ablation-lambda",
        "Ablation: imitation weight λ",
        "lam",
        "distill",
        ("tau", "text_encoder"),
        lambda value: f"λ = {value:g}",
        "not in the paper, which fixes λ",
    ),
    Ablation(
        "ablation-text-encoder",
        "Ablation: the teacher's text encoder",
        "text_encoder",
        "distill",
        ("tau", "lam"),
        lambda value: f"teacher text: {text_name(value)}",
        "the paper's Figures 18 and 19",
    ),
)


def ablation(rows: pd.DataFrame, spec: Ablation) -> Section:
    """Per task and backbone where the factor took several values: one line per value, with the
    image-only baseline for distillation factors; mean and 95 % t-interval."""
    caption = (
        f"Final-epoch AUC against training images (log scale) for each value of the "
        f"factor, other settings at their main value; mean across seeds with a 95 % t-interval "
        f"band ({spec.figures})."
    )
    candidates = rows[rows["method"] == spec.method]
    if spec.method != "image":
        candidates = candidates[candidates["head"] == PAPER_HEAD]
    chosen = {}
    for knob in spec.held:
        candidates, chosen[knob] = prefer(candidates, knob)
    varied = candidates.groupby(["task", "series"])[spec.factor].transform("nunique") > 1
    point = ["task", "series", "fraction", spec.factor]
    candidates, notes = latest_per_point(candidates[varied], point)
    stats = point_stats(candidates, point, "final_auc", ABLATION_LEVEL)
    if stats.empty:
        why = f"no runs vary {spec.factor} (a task and backbone with two or more values)"
        return empty(spec.name, spec.title, caption, why)
    stats["setting"] = stats[spec.factor].map(spec.label)
    missing = missing_points(stats, ["series", "fraction", spec.factor])
    if spec.method != "image":
        baseline = _baseline(rows, stats)
        missing += _baseline_missing(stats, baseline)
        stats = pd.concat([stats, baseline], ignore_index=True)
    figure = _ablation_figure(stats, spec)
    notes += held_notes(chosen)
    return Section(spec.name, spec.title, caption, stats, figure, missing, notes)


def _baseline(rows: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """Image-only points of the ablated tasks and backbones, for comparison."""
    pairs = stats[["task", "series"]].drop_duplicates()
    image = image_rows(rows).merge(pairs, on=["task", "series"])
    if image.empty:
        return stats.iloc[:0]
    image, _ = latest_per_point(image, ["task", "series", "fraction"])
    baseline = point_stats(image, ["task", "series", "fraction"], "final_auc", ABLATION_LEVEL)
    baseline["setting"] = IMAGE_ONLY
    return baseline


def _baseline_missing(stats: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    grid = ["task", "series", "fraction"]
    have = set(baseline[grid].itertuples(index=False, name=None))
    wanted = stats[grid].drop_duplicates().itertuples(index=False, name=None)
    return [
        f"{describe(dict(zip(grid, point, strict=True)))}, {IMAGE_ONLY}"
        for point in wanted
        if point not in have
    ]


def _ablation_figure(stats: pd.DataFrame, spec: Ablation) -> Figure:
    rank = spec.rank
    by = None if rank is None else (lambda values: values.map(rank))
    settings = stats.drop_duplicates("setting").sort_values(spec.factor, key=by)["setting"]
    palette = Palette(settings, [IMAGE_ONLY, *settings], {IMAGE_ONLY: BASELINE})
    pairs = [
        (task, series)
        for task in task_order(stats["task"])
        for series in sorted(stats[stats["task"] == task]["series"].unique())
    ]
    figure, axes = panels(len(pairs))
    for ax, (task, series) in zip(axes, pairs, strict=True):
        panel = stats[(stats["task"] == task) & (stats["series"] == series)]
        x, label = x_values(panel)
        lines(ax, panel, "setting", palette, x)
        sample_axis(ax, panel[x].to_numpy(), label)
        ax.set_title(_title(task, panel, f" - {series}"))
    y_label(axes, metric_label("auc"))
    legend(figure, axes, interval_key(ABLATION_LEVEL))
    return figure
