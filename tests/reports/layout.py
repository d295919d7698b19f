"""Geometry checks on drawn figures: text that does not collide or leave the figure, panels on
one y scale, legends readable once the PNG is shown 800 px wide."""

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from radsweep.reports.style import RC

DISPLAY_WIDTH = 800  # px
MIN_LEGEND_PX = 9.0


def _visible(texts: list[Text]) -> list[Text]:
    return [text for text in texts if text.get_visible() and text.get_text().strip()]


def _labels(figure: Figure) -> dict[str, list[Text]]:
    titles = [ax.title for ax in figure.axes] + list(figure.texts)  # texts: the suptitle
    return {
        "title": _visible(titles),
        "ylabel": _visible([ax.yaxis.label for ax in figure.axes]),
        "xlabel": _visible([ax.xaxis.label for ax in figure.axes]),
        "legend": _visible([text for legend in figure.legends for text in legend.get_texts()]),
    }


def collisions(figure: Figure, dpi: float | None = None) -> list[str]:
    """Pairs of titles, axis labels and legend entries whose drawn extents overlap, and any of
    them reaching outside the figure (clipped). Drawn as the report draws it: at ``dpi`` (the
    PNG's; text extents do not scale exactly with dpi) and with the report's style (ticks made
    while drawing take their font size from it)."""
    if dpi is not None:
        figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    with matplotlib.rc_context(RC):
        canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [
        (f"{kind} {text.get_text()!r}", text.get_window_extent(renderer))
        for kind, texts in _labels(figure).items()
        for text in texts
    ]
    inside = Bbox.from_extents(-1, -1, figure.bbox.width + 1, figure.bbox.height + 1)
    problems = [
        f"{name} is clipped"
        for name, box in boxes
        if not (inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1))
    ]
    for index, (name, box) in enumerate(boxes):
        for other, other_box in boxes[index + 1 :]:
            if box.overlaps(other_box):
                problems.append(f"{name} overlaps {other}")
    return problems


def legend_px(figure: Figure, png_width: int, dpi: float) -> list[float]:
    """The height in px of each legend entry's font once a PNG of ``png_width`` px saved at
    ``dpi`` is scaled to ``DISPLAY_WIDTH`` px wide."""
    scale = DISPLAY_WIDTH / png_width
    return [
        text.get_fontsize() * dpi / 72 * scale
        for legend in figure.legends
        for text in legend.get_texts()
    ]


def y_limits(figure: Figure) -> set[tuple[float, float]]:
    return {tuple(round(value, 9) for value in ax.get_ylim()) for ax in figure.axes}
