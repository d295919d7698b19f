"""Panels share one y scale and stay narrow enough, labels fit beside short panels, and the
legend stays readable on an 800 px screen however wide the figure."""

import matplotlib
import numpy as np
import pytest

from radsweep.reports.section import MAX_WIDTH, legend, panels, readable_size, y_label
from radsweep.reports.style import RC, metric_label
from tests.reports.layout import collisions, legend_px, y_limits

DPI = 110


def _draw(count: int, width: float) -> matplotlib.figure.Figure:
    figure, axes = panels(count, width=width)
    for index, ax in enumerate(axes):
        x = np.arange(4)
        ax.plot(x, 0.5 + 0.1 * index * x, label=f"a rather long series name {index}")
        ax.set_title(f"panel {index}, n = 1,234 training images\n(5 seeds)")
        ax.set_xlabel("training samples (images, log scale)")
    y_label(axes, metric_label("auc"))
    figure.suptitle("Synthetic diagnostic")
    legend(figure, axes)
    return figure


@pytest.mark.parametrize(("count", "width"), [(1, 4.0), (2, 4.0), (5, 4.0), (3, 6.5), (2, 12.0)])
def test_panels_share_y_and_text_fits(count: int, width: float) -> None:
    with matplotlib.rc_context(RC):
        figure = _draw(count, width)
        assert figure.get_figwidth() <= MAX_WIDTH
        assert collisions(figure) == []
        (low, high), *others = y_limits(figure)
        assert not others and low <= 0.5 and high >= 0.5 + 0.3 * (count - 1)  # every panel's data
        left = [ax for ax in figure.axes if ax.get_subplotspec().is_first_col()]
        assert all(ax.get_ylabel() for ax in left)
        assert not any(ax.get_ylabel() for ax in figure.axes if ax not in left)
        png_width = round(figure.get_figwidth() * DPI)
        assert min(legend_px(figure, png_width, DPI)) >= 9.0


def test_readable_size_grows_with_the_figure_width() -> None:
    figure = matplotlib.figure.Figure(figsize=(16.0, 3.0))
    assert readable_size(figure, 8.0) == pytest.approx(9 * 72 * 16 / 800)
    assert readable_size(matplotlib.figure.Figure(figsize=(4.0, 3.0)), 8.0) == 8.0
