"""Per-epoch AUC of chosen runs on their scored rows: every seed, their mean, and the
teacher's."""

from collections.abc import Collection, Mapping, Sequence
from typing import cast

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from radsweep.reports.section import Section, legend, panels, y_label
from radsweep.reports.style import OKABE_ITO, Palette, task_title
from radsweep.training.registry import PAPER_HEAD

STAGE_COLOURS = {"model": OKABE_ITO[0], "teacher": OKABE_ITO[6]}
STAGE_NAMES = {"model": "model (the student, for distillation)", "teacher": "teacher"}
CAPTION = (
    "AUC on the scored rows after every epoch (each seed's test rows under held-out scoring, "
    "else its validation rows): thin lines are single seeds, thick lines their mean; for "
    "distillation runs the dashed lines are the teacher the student learned from (at the epoch "
    "its selection rows chose), the solid ones the student."
)


def default_runs(
    runs: pd.DataFrame, palette: Palette, found: Mapping[str, Collection[float]] | None = None
) -> dict[str, list[str]]:
    """Per task, one run per method: at a training fraction with a finding (``found``: task to
    the fractions the findings are at) where there is one, so the curves show the runs the page
    opens with; else the largest fraction. Then the first backbone in the study's order, the
    attention head, the latest run."""
    found = found or {}
    rank = {name: index for index, name in enumerate(palette.names)}
    at_finding = [
        fraction in found.get(str(task), ())
        for task, fraction in zip(runs["task"], runs["fraction"], strict=True)
    ]
    ordered = runs.assign(
        order=runs["series"].map(rank), probe=runs["head"] != PAPER_HEAD, found=at_finding
    )
    ordered = ordered.sort_values(
        ["found", "fraction", "order", "probe", "created_at"],
        ascending=[False, False, True, True, False],
    )
    chosen = ordered.drop_duplicates(["task", "method"])
    return {
        str(task): list(group["run_key"])
        for task, group in chosen.sort_values(["task", "method"]).groupby("task")
    }


def resolve(runs: pd.DataFrame, requested: Sequence[str]) -> tuple[list[str], list[str]]:
    """Full run keys for the requested keys or unique prefixes; what matched nothing (or more
    than one run) goes to the missing list."""
    found, missing = [], []
    for prefix in requested:
        matches = runs.loc[runs["run_key"].str.startswith(prefix), "run_key"].tolist()
        if len(matches) == 1:
            found.append(matches[0])
        else:
            missing.append(f"run {prefix}: {'no run' if not matches else 'several runs'} match")
    return found, missing


def _panel(ax: Axes, rows: pd.DataFrame) -> pd.DataFrame:
    means = []
    for stage, stage_rows in rows.groupby("stage"):
        colour, dash = (
            STAGE_COLOURS.get(str(stage), OKABE_ITO[1]),
            "--" if stage != "model" else "-",
        )
        for _, seed_rows in stage_rows.groupby("seed"):
            ax.plot(
                seed_rows["epoch"],
                seed_rows["auc"],
                color=colour,
                linestyle=dash,
                linewidth=0.6,
                alpha=0.45,
            )
        mean = stage_rows.groupby("epoch", as_index=False)[["auc", "auprc"]].mean()
        ax.plot(
            mean["epoch"],
            mean["auc"],
            color=colour,
            linestyle=dash,
            linewidth=2,
            label=f"{STAGE_NAMES.get(str(stage), stage)}: mean of seeds",
        )
        means.append(mean.assign(stage=stage, line="mean"))
    return pd.concat(means, ignore_index=True)


def _title(run: pd.Series, n_train: float) -> str:
    samples = f", {n_train:,.0f} training images" if pd.notna(n_train) else ""
    what = f"{task_title(run['task'])}: {run['series']}, {run['method']}"
    return f"{what}\nfraction {run['fraction']:g}{samples}"


def run_curves(
    curves: pd.DataFrame,
    runs: pd.DataFrame,
    sizes: pd.Series,
    keys: Sequence[str],
    name: str,
    title: str,
    missing: Sequence[str] = (),
) -> Section:
    """One panel per run; ``runs`` is indexed by run key and carries ``series``; ``sizes`` is the
    mean training size per run key."""
    missing = list(missing)
    shown = [key for key in keys if (curves["run_key"] == key).any()]
    missing += [f"run {key[:8]}: no per-epoch curves stored" for key in keys if key not in shown]
    if not shown:
        return Section(name, title, CAPTION, pd.DataFrame(), missing=missing)
    figure, axes = panels(len(shown))
    data = []
    for ax, key in zip(axes, shown, strict=True):
        rows = curves[curves["run_key"] == key]
        means = _panel(ax, rows)
        run = cast(pd.Series, runs.loc[key])  # run keys are unique: one row
        ax.set_title(_title(run, sizes.get(key, float("nan"))))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        seeds = rows.assign(line=[f"seed {seed}" for seed in rows["seed"]])
        data.append(pd.concat([seeds, means.assign(run_key=key)], ignore_index=True))
    y_label(axes, "AUC (scored rows)")
    legend(figure, axes)
    columns = ["run_key", "stage", "line", "seed", "epoch", "auc", "auprc"]
    section = Section(
        name, title, CAPTION, pd.concat(data, ignore_index=True)[columns], figure, missing
    )
    section.links = wandb_links(runs, shown)
    return section


def wandb_links(runs: pd.DataFrame, keys: Sequence[str]) -> list[tuple[str, str]]:
    """The W&B page of each run that has one (runs logged offline get theirs when synced)."""
    if "wandb_url" not in runs.columns:
        return []
    urls = runs.loc[list(keys), "wandb_url"]
    return [
        (f"run {key[:8]}: {runs.loc[key, 'series']!s}, {runs.loc[key, 'method']!s}", str(url))
        for key, url in zip(keys, urls, strict=True)
        if isinstance(url, str) and url.startswith(("https://", "http://"))
    ]
