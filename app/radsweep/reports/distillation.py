"""Image-only vs self-distillation vs distillation vs teacher, per backbone and training size
(the paper's Figures 3 and 6-10), and the same per seed (Figures 11-13)."""

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from radsweep.reports.efficiency import image_rows
from radsweep.reports.points import (
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
    panels,
    seeds_text,
    slug,
    y_label,
)
from radsweep.reports.style import (
    OKABE_ITO,
    Palette,
    Style,
    averaging,
    metric_label,
    task_title,
)
from radsweep.training.registry import PAPER_HEAD

LEVEL = 0.95  # the paper's Figure 3
ARMS = ("image", "self-distill", "distill", "teacher")
ARM_LABELS = {
    "image": "image only",
    "self-distill": "self-distillation (student)",
    "distill": "distillation (student)",
    "teacher": "teacher (image + report)",
}
ARM_STYLES = {
    "image": Style(OKABE_ITO[0], "o", "-"),
    "self-distill": Style(OKABE_ITO[4], "s", "--"),
    "distill": Style(OKABE_ITO[1], "^", "-."),
    "teacher": Style(OKABE_ITO[6], "D", ":"),
}
POINT = ["task", "series", "fraction", "arm"]


def _main(
    rows: pd.DataFrame, method: str, knobs: tuple[str, ...], notes: list[str]
) -> pd.DataFrame:
    """The method's attention-head runs at the main setting of each knob (noted per task)."""
    kept = rows[(rows["method"] == method) & (rows["head"] == PAPER_HEAD)]
    chosen = {}
    for knob in knobs:
        kept, chosen[knob] = prefer(kept, knob)
    notes += held_notes(chosen, f"{method} ")
    return kept


def arm_rows(seeds: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Per-seed rows of the four arms at the main τ, λ and text encoder, with an ``arm`` column,
    at the training fractions where something besides image-only ran.

    The teacher is the teacher run of the grid point; where there is none, the teacher stage
    of the distillation run stands in (same seeds and splits), and a note says where.
    """
    model, notes = seeds[seeds["stage"] == "model"], list[str]()
    distill = _main(model, "distill", ("tau", "lam", "text_encoder"), notes)
    arms = {
        "image": image_rows(model),
        "self-distill": _main(model, "self-distill", ("tau", "lam"), notes),
        "distill": distill,
        "teacher": _main(model, "teacher", ("text_encoder",), notes),
    }
    stage = seeds[(seeds["stage"] == "teacher") & seeds["run_key"].isin(distill["run_key"])]
    grid = ["task", "series", "fraction"]
    have = pd.MultiIndex.from_frame(arms["teacher"][grid])
    stand_in = stage[~pd.MultiIndex.from_frame(stage[grid]).isin(have)]
    arms["teacher"] = pd.concat([arms["teacher"], stand_in])
    notes += [
        f"{task_title(str(task))}: {count} teacher point(s) from the teacher stage of "
        "distillation runs"
        for task, count in stand_in.drop_duplicates("run_key").groupby("task").size().items()
    ]
    frame = pd.concat([rows.assign(arm=arm) for arm, rows in arms.items()], ignore_index=True)
    compared = frame.loc[frame["arm"] != "image", "fraction"].unique()
    return frame[frame["fraction"].isin(compared)], notes


def _offsets(count: int) -> np.ndarray:
    return (np.arange(count) - (count - 1) / 2) * 0.2


def _group_axis(ax: Axes, series: list[str]) -> None:
    ax.set_xticks(range(len(series)), series, rotation=30, ha="right")
    ax.set_xlim(-0.6, len(series) - 0.4)


def _panel_title(fraction: float, n_train: pd.Series, seeds: pd.Series) -> str:
    sizes = n_train.dropna()
    samples = f", n = {sizes.median():,.0f} training images" if len(sizes) else ""
    return f"fraction {fraction:g}{samples}\n({seeds_text(seeds)})"


def _mean_panel(ax: Axes, stats: pd.DataFrame, series: list[str]) -> None:
    offsets = _offsets(len(ARMS))
    for offset, arm in zip(offsets, ARMS, strict=True):
        rows = stats[stats["arm"] == arm].set_index("series").reindex(series).dropna(subset="mean")
        if rows.empty:
            continue
        x = np.array([series.index(name) for name in rows.index]) + offset
        error = np.nan_to_num(np.vstack([rows["mean"] - rows["low"], rows["high"] - rows["mean"]]))
        style = ARM_STYLES[arm]
        ax.errorbar(
            x,
            rows["mean"],
            yerr=error,
            fmt=style.marker,
            color=style.color,
            capsize=3,
            markersize=5,
            label=ARM_LABELS[arm],
        )


def distillation(seeds: pd.DataFrame, palette: Palette, task: str, metric: str) -> Section:
    """One panel per training fraction; per backbone, the four arms' means with 95 % intervals."""
    name = f"distillation-{metric}-{slug(task)}"
    title = f"Distillation: {task_title(task)} ({metric.upper()})"
    caption = (
        f"Final-epoch validation {metric.upper()} of image-only models, self-distilled and "
        "distilled students (image-only at test time) and the report-aware teacher, per backbone "
        "and training size; mean across seeds with 95 % t-interval error bars (the paper's "
        f"{'Figures 3 and 7-10' if metric == 'auc' else 'Figure 6'})."
    )
    frame, notes = arm_rows(seeds[seeds["task"] == task])
    frame, duplicates = latest_per_point(frame, POINT)
    stats = point_stats(frame, POINT, f"final_{metric}", LEVEL)
    if stats.empty:
        return empty(name, title, caption, f"{task_title(task)}: no runs with the attention head")
    fractions = sorted(stats["fraction"].unique())
    series = palette.order(stats["series"].unique())
    figure, axes = panels(len(fractions), width=max(4.0, 0.7 * len(series)))
    for ax, fraction in zip(axes, fractions, strict=True):
        panel = stats[stats["fraction"] == fraction]
        _mean_panel(ax, panel, series)
        _group_axis(ax, series)
        ax.set_title(_panel_title(fraction, panel["n_train"], panel["seeds"]))
    y_label(axes, metric_label(metric))
    figure.suptitle(f"{task_title(task)}{averaging(task)}")
    legend(figure, axes, interval_key(LEVEL, "bars"))
    missing = missing_points(stats, ["series", "fraction", "arm"], {"arm": ARMS})
    return Section(name, title, caption, stats, figure, missing, duplicates + notes)


def _seed_panel(ax: Axes, rows: pd.DataFrame, series: list[str]) -> None:
    offsets = dict(zip(ARMS, _offsets(len(ARMS)), strict=True))
    for (name, _), seed_rows in rows.groupby(["series", "seed"]):
        ordered = seed_rows.set_index("arm").reindex(
            [arm for arm in ARMS if arm in set(seed_rows["arm"])]
        )
        x = [series.index(str(name)) + offsets[arm] for arm in ordered.index]
        ax.plot(x, ordered["final_auc"], color="#999999", linewidth=0.7, zorder=1)
    for arm in ARMS:
        arm_rows_ = rows[rows["arm"] == arm]
        if arm_rows_.empty:
            continue
        x = [series.index(name) + offsets[arm] for name in arm_rows_["series"]]
        style = ARM_STYLES[arm]
        ax.scatter(
            x,
            arm_rows_["final_auc"],
            marker=style.marker,
            color=style.color,
            s=16,
            zorder=2,
            label=ARM_LABELS[arm],
        )


def distillation_seeds(seeds: pd.DataFrame, palette: Palette, task: str) -> Section:
    """Every seed's AUC in each arm, a grey line joining one seed's arms (same split)."""
    name = f"distillation-seeds-{slug(task)}"
    title = f"Distillation per seed: {task_title(task)}"
    caption = (
        "Final-epoch AUC of every seed in each arm; grey lines join the arms of one "
        "seed, which share their training and validation split (the paper's Figures 11-13)."
    )
    frame, notes = arm_rows(seeds[seeds["task"] == task])
    frame, duplicates = latest_per_point(frame, POINT)
    columns = [*POINT, "seed", "final_auc", "n_train", "n_validation", "run_key"]
    data = (
        frame[columns].dropna(subset="final_auc").sort_values([*POINT, "seed"], ignore_index=True)
    )
    if data.empty:
        return empty(name, title, caption, f"{task_title(task)}: no runs with the attention head")
    fractions = sorted(data["fraction"].unique())
    series = palette.order(data["series"].unique())
    figure, axes = panels(len(fractions), width=max(4.0, 0.7 * len(series)))
    for ax, fraction in zip(axes, fractions, strict=True):
        panel = data[data["fraction"] == fraction]
        _seed_panel(ax, panel, series)
        _group_axis(ax, series)
        ax.set_title(_panel_title(fraction, panel["n_train"], panel.groupby(POINT).size()))
    y_label(axes, metric_label("auc"))
    figure.suptitle(f"{task_title(task)}{averaging(task)}")
    legend(figure, axes)
    present = data.drop_duplicates(POINT)
    missing = missing_points(present, ["series", "fraction", "arm"], {"arm": ARMS})
    return Section(name, title, caption, data, figure, missing, duplicates + notes)
