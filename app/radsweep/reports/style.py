"""Colours, markers, dash patterns and display names shared by every figure.

Okabe-Ito colours are distinguishable with the common colour-vision deficiencies; each series also
gets its own marker and dash pattern, so lines stay apart in grayscale print. A name keeps its
style in every figure of a report.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from radsweep.encoders.pretrained import display_name, report_order
from radsweep.tasks.registry import KNOWN_TASKS
from radsweep.training.registry import head_specs

OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow: last, it is faint on white
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES: tuple[Any, ...] = (
    "-",
    "--",
    "-.",
    ":",
    (0, (5, 1)),
    (0, (3, 1, 1, 1, 1, 1)),
    (0, (1, 1)),
    (0, (5, 2, 1, 2)),
)
RC = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.grid": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}


def backbone_label(backbone: str, variant: str | None = None) -> str:
    name = display_name(backbone, "image")
    return f"{name} ({variant})" if variant else name


def head_label(head: str) -> str:
    """A head's display name from the head catalogue; a head no longer registered keeps its
    stored name."""
    names = {spec.name: spec.display for spec in head_specs()}
    return names.get(head, head)


def head_rank(head: str) -> int:
    """A head's place in figures: the catalogue's order (the paper's head first), then heads no
    longer registered."""
    names = [spec.name for spec in head_specs()]
    return names.index(head) if head in names else len(names)


def text_label(encoder: str) -> str:
    return display_name(encoder, "text")


def task_title(task: str) -> str:
    spec = KNOWN_TASKS.get(task)
    return spec.title if spec else task


def metric_label(metric: str) -> str:
    """Axis label: which metric, and that it is the final epoch's; two short lines, so it fits
    beside a short panel without reaching the title."""
    name = {"auc": "AUC", "auprc": "AUPRC"}[metric]
    return f"validation {name}\n(final epoch)"


def averaging(task: str) -> str:
    """How a multiclass task's metric is averaged, for its panel title: the panels of a figure
    share one y label, and the tasks in one figure may differ in averaging."""
    spec = KNOWN_TASKS.get(task)
    return " (micro-averaged, one-vs-rest)" if spec is not None and spec.n_classes > 2 else ""


@dataclass(frozen=True)
class Style:
    color: str
    marker: str
    linestyle: Any

    def line(self) -> dict[str, Any]:
        return {"color": self.color, "marker": self.marker, "linestyle": self.linestyle}


BASELINE = Style("#000000", "X", (0, (2, 2)))
"""The image-only reference line in comparisons: black, dotted, crosses."""


class Palette:
    """A fixed style per name: names in ``order`` first (the study's order), then the rest."""

    def __init__(
        self,
        names: Iterable[str],
        order: Sequence[str] = (),
        fixed: dict[str, Style] | None = None,
    ) -> None:
        fixed = fixed or {}
        names = set(names)
        ordered = [name for name in dict.fromkeys(order) if name in names]
        ordered += sorted(names - set(ordered))
        self.names = ordered
        cycled = [name for name in ordered if name not in fixed]
        self._styles = {
            name: Style(
                OKABE_ITO[index % len(OKABE_ITO)],
                MARKERS[index % len(MARKERS)],
                DASHES[(index + index // len(DASHES)) % len(DASHES)],
            )
            for index, name in enumerate(cycled)
        } | {name: style for name, style in fixed.items() if name in names}

    def __getitem__(self, name: str) -> Style:
        return self._styles[name]

    def order(self, names: Iterable[str]) -> list[str]:
        """``names`` in palette order."""
        wanted = set(names)
        return [name for name in self.names if name in wanted]


def backbone_order() -> tuple[str, ...]:
    """The backbones' fixed colour order in figures: the pretrained table's ``report_order``,
    as display names (a backbone added to the table takes its place there)."""
    return tuple(display_name(name) for name in report_order())


def task_order(tasks: Iterable[str]) -> list[str]:
    """The study's tasks in catalogue order, then the synthetic and user tasks by name."""
    known = list(KNOWN_TASKS)
    return sorted(set(tasks), key=lambda task: (known.index(task) if task in known else 99, task))
