"""One item of the report (a figure or a table) and the plotting helpers the figures share.

Figures are ``matplotlib.figure.Figure`` objects, never pyplot: no global state and no GUI
backend, so reports render headless (and in threads or workers) whatever backend is configured.
"""

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.textpath import TextToPath

from radsweep.reports.style import Palette

PANEL_SIZE = (4.0, 3.0)  # inches per panel
MAX_WIDTH = 8.8  # inches: wider figures scale down too far on an 800 px screen
DISPLAY_WIDTH = 800  # px: the narrowest screen a figure must stay readable on
MIN_TEXT_PX = 9.0  # px: the smallest legend text at DISPLAY_WIDTH


@dataclass
class Section:
    """What the report shows for one figure or table.

    ``data`` holds the numbers behind every plotted point (written as CSV); ``missing`` lists the
    grid points that have no run; ``table`` is shown as an HTML table; ``links`` are (label, URL)
    pairs, such as the W&B page of each run shown. Sections of one ``group`` (such as the three
    distillation figures of a task) stand together: notes they all share are shown once.
    """

    name: str
    title: str
    caption: str
    data: pd.DataFrame
    figure: Figure | None = None
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    links: list[tuple[str, str]] = field(default_factory=list)
    group: str = ""

    @property
    def shown(self) -> bool:
        """Whether there is a figure or a table to show (else only why there is none)."""
        return self.figure is not None or (self.table is not None and not self.table.empty)


def panels(count: int, columns: int = 3, width: float = PANEL_SIZE[0]) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels (``width`` inches wide) in rows of at most ``columns``,
    no wider than ``MAX_WIDTH``. The panels share one y scale, so they compare by eye; only the
    left column keeps its y tick labels."""
    width = min(width, MAX_WIDTH)
    columns = max(1, min(columns, count, int(MAX_WIDTH // width)))
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(width * columns, PANEL_SIZE[1] * rows + 0.6), layout="constrained")
    axes = list(figure.subplots(rows, columns, squeeze=False, sharey=True).ravel())
    for spare in axes[count:]:
        figure.delaxes(spare)
    return figure, axes[:count]


def y_label(axes: list[Axes], text: str) -> None:
    """The shared y axis's label, on the left column only."""
    for ax in axes:
        spec = ax.get_subplotspec()
        if spec is not None and spec.is_first_col():
            ax.set_ylabel(text)


def readable_size(figure: Figure, points: float) -> float:
    """``points``, raised where needed so text stays ``MIN_TEXT_PX`` tall once the figure is
    scaled to ``DISPLAY_WIDTH`` px wide (dpi cancels: only the width in inches matters)."""
    needed = MIN_TEXT_PX * 72 * figure.get_figwidth() / DISPLAY_WIDTH
    return max(points, needed)


def _legend_points() -> float:
    """The configured legend size in points (rcParams may hold a name such as "small")."""
    return FontProperties(size=rcParams["legend.fontsize"]).get_size()


def _legend_columns(labels: list[str], points: float, width: float) -> int:
    """The most legend columns (up to 4) whose widest entries fit ``width`` inches; an entry is
    its marker (2 em), the gap (0.8 em), its text and the column gap (2 em)."""
    font = FontProperties(size=points)
    measure = TextToPath()
    widths = sorted(
        (measure.get_text_width_height_descent(label, font, ismath=False)[0] for label in labels),
        reverse=True,
    )
    entry = [text + 4.8 * points for text in widths]
    fitting = [count for count in range(1, 5) if sum(entry[:count]) <= 72 * width]
    return max([1, *fitting])


def interval_key(level: float, drawn: str = "band") -> tuple[str, Artist]:
    """The legend entry that labels a figure's intervals with their level (the page shows 90 %
    and 95 % intervals: each figure says which it draws, also when its PNG is seen alone)."""
    if drawn == "band":
        return f"shaded: {level:.0%} t-interval", Patch(color="#000000", alpha=0.15, linewidth=0)
    bar = Line2D([], [], color="#555555", marker="|", markersize=10, linestyle="")
    return f"bars: {level:.0%} t-interval", bar


def legend(figure: Figure, axes: list[Axes], key: tuple[str, Artist] | None = None) -> None:
    """One legend below all panels, with every label any panel used (and ``key``, the
    intervals' level, last), readable at 800 px and in as many columns as fit the figure."""
    entries: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries and key is not None:
        entries[key[0]] = key[1]
    if entries:
        points = readable_size(figure, _legend_points())
        figure.legend(
            list(entries.values()),
            list(entries),
            loc="outside lower center",
            ncols=_legend_columns(list(entries), points, figure.get_figwidth()),
            frameon=False,
            fontsize=points,
        )


def sample_axis(ax: Axes, values: np.ndarray, label: str) -> None:
    """A log axis ticked at the plotted sample counts (or fractions)."""
    ax.set_xscale("log")
    ticks = np.unique(np.round(values, 6))
    ax.set_xticks(ticks, [f"{tick:,.0f}" if tick >= 1 else f"{tick:g}" for tick in ticks])
    ax.minorticks_off()
    ax.set_xlabel(label)


def x_values(stats: pd.DataFrame) -> tuple[str, str]:
    """Training samples on x when every point knows them; otherwise the training fraction."""
    if stats["n_train"].notna().all():
        return "n_train", "training samples (images, log scale)"
    return "fraction", "training fraction (log scale)"


def lines(
    ax: Axes,
    stats: pd.DataFrame,
    by: str,
    palette: Palette,
    x: str,
    labels: dict[str, str] | None = None,
) -> None:
    """Mean per series against ``x``, with its t-interval as a band."""
    labels = labels or {}
    for name in palette.order(stats[by].unique()):
        rows = stats[stats[by] == name].sort_values(x)
        style = palette[name]
        ax.plot(
            rows[x],
            rows["mean"],
            label=labels.get(name, str(name)),
            markersize=4,
            linewidth=1.4,
            **style.line(),
        )
        ax.fill_between(
            rows[x], rows["low"], rows["high"], color=style.color, alpha=0.15, linewidth=0
        )


def seeds_text(counts: pd.Series) -> str:
    """``5 seeds`` or ``3-5 seeds`` per point, from the points' seed counts."""
    low, high = int(counts.min()), int(counts.max())
    return f"{low} seeds" if low == high else f"{low}-{high} seeds"


def slug(text: str) -> str:
    """A file-name-safe form of a task name (names from W&B configs are not validated)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "_"


def empty(name: str, title: str, caption: str, why: str) -> Section:
    """A section for a figure with nothing to draw yet: it says what is missing."""
    return Section(name, title, caption, pd.DataFrame(), missing=[why])
