"""Build the whole report: every figure and table, their CSVs, PNG/SVG files and the HTML page."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from radsweep.atomic import write_atomic, write_text_atomic
from radsweep.errors import RadsweepError
from radsweep.reports.curves import default_runs, resolve, run_curves
from radsweep.reports.distillation import distillation, distillation_seeds
from radsweep.reports.efficiency import ABLATIONS, ablation, sample_efficiency
from radsweep.reports.findings import findings_section
from radsweep.reports.html import render
from radsweep.reports.points import with_series
from radsweep.reports.provenance import excluded_section, provenance_section
from radsweep.reports.section import Section, slug
from radsweep.reports.style import RC, Palette, backbone_order, task_order, task_title
from radsweep.reports.table7 import table7
from radsweep.results.findings import paired_findings
from radsweep.results.frames import ResultFrames
from radsweep.results.runset import Selection
from radsweep.results.store import ResultsStore

REPORT_NAME = "report.html"
DISTILLATION_METHODS = ("distill", "self-distill", "teacher")


def _curve_sections(frames: ResultFrames, palette: Palette, runs: Sequence[str]) -> list[Section]:
    table = with_series(frames.runs)
    model = frames.seed_metrics[frames.seed_metrics["stage"] == "model"]
    sizes = model.groupby("run_key")["n_train"].mean()
    indexed = table.set_index("run_key")
    if runs:
        keys, missing = resolve(table, runs)
        title = "Per-epoch AUC of the chosen runs on their scored rows"
        return [run_curves(frames.curves, indexed, sizes, keys, "curves-selected", title, missing)]
    found: dict[str, set[float]] = {}
    for finding in paired_findings(frames.seed_metrics):
        found.setdefault(finding.task, set()).add(finding.fraction)
    chosen = default_runs(table, palette, found)
    return [
        run_curves(
            frames.curves,
            indexed,
            sizes,
            chosen[task],
            f"curves-{slug(task)}",
            f"Per-epoch AUC on the scored rows: {task_title(task)}",
        )
        for task in task_order(chosen)
    ]


def _grouped(group: str, sections: list[Section]) -> list[Section]:
    """Mark ``sections`` as one figure group: the page shows the notes they share once."""
    for section in sections:
        section.group = group
    return sections


def build_sections(frames: ResultFrames, runs: Sequence[str] = ()) -> list[Section]:
    """Every section of the report, in reading order (call inside ``matplotlib.rc_context``):
    the paired findings first, because they answer the question the rest of the page supports."""
    seeds = with_series(frames.seed_metrics)
    palette = Palette(seeds["series"], backbone_order())
    model = seeds[seeds["stage"] == "model"]
    sections = [findings_section(frames.seed_metrics)]
    efficiency = [sample_efficiency(model, palette, metric) for metric in ("auc", "auprc")]
    sections += _grouped("sample-efficiency", efficiency)
    distilled = task_order(model.loc[model["method"].isin(DISTILLATION_METHODS), "task"])
    for task in distilled:
        figures = [distillation(seeds, palette, task, metric) for metric in ("auc", "auprc")]
        figures.append(distillation_seeds(seeds, palette, task))
        sections += _grouped(f"distillation-{slug(task)}", figures)
    if not distilled:
        sections.append(
            Section(
                "distillation",
                "Distillation",
                "Image-only vs students vs teacher.",
                pd.DataFrame(),
                missing=["no distillation, self-distillation or teacher runs"],
            )
        )
    sections += _grouped("ablations", [ablation(model, spec) for spec in ABLATIONS])
    sections.append(table7(seeds))
    sections += _grouped("curves", _curve_sections(frames, palette, runs))
    return sections


def _encoded(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=110)
    return buffer.getvalue()


def _write_bytes(target: Path, data: bytes) -> None:
    write_atomic(target, lambda path: path.write_bytes(data))


def write_report(sections: Sequence[Section], frames: ResultFrames, out_dir: Path) -> Path:
    """PNG and SVG per figure, a CSV per section, and the HTML page (written last)."""
    images, files = {}, {}
    for section in sections:
        written = []
        if section.figure is not None:
            images[section.name] = _encoded(section.figure, "png")
            section.figure.set_layout_engine("none")  # keep the laid-out positions for the SVG
            _write_bytes(out_dir / "figures" / f"{section.name}.png", images[section.name])
            _write_bytes(
                out_dir / "figures" / f"{section.name}.svg", _encoded(section.figure, "svg")
            )
            written += [f"figures/{section.name}.png", f"figures/{section.name}.svg"]
        if not section.data.empty:
            csv = section.data.to_csv(index=False)
            write_text_atomic(out_dir / "data" / f"{section.name}.csv", csv)
            written.append(f"data/{section.name}.csv")
        files[section.name] = written
    counts = (
        f"{len(frames.runs)} runs, {frames.seed_metrics['seed'].size} per-seed rows, "
        f"{frames.seed_metrics['task'].nunique()} tasks"
    )
    page = render(sections, images, files, frames.source, counts)
    target = out_dir / REPORT_NAME
    write_text_atomic(target, page)
    return target


@dataclass(frozen=True)
class Report:
    """A written report: its HTML page and what each section showed and missed."""

    path: Path
    sections: list[Section]


def make_report(
    source: ResultsStore | ResultFrames | Selection, out_dir: Path, runs: Sequence[str] = ()
) -> Report:
    """``build_report``, also returning the sections (the CLI summarises what is missing).

    A ``Selection`` (a run set applied to the store) draws only its runs and opens with what it
    was built from and which runs it left out."""
    if isinstance(source, Selection):
        frames = source.frames
    else:
        frames = source if isinstance(source, ResultFrames) else ResultFrames.from_store(source)
    if frames.seed_metrics.empty:
        raise RadsweepError(
            f"{frames.source} holds no runs yet",
            hint="run a sweep first (radsweep sweep local ...), then report",
        )
    with matplotlib.rc_context(RC):
        sections = build_sections(frames, runs)
        if isinstance(source, Selection):
            stated = [provenance_section(source), excluded_section(source)]
            sections[1:1] = [section for section in stated if section is not None]
        return Report(write_report(sections, frames, Path(out_dir)), sections)


def build_report(
    source: ResultsStore | ResultFrames | Selection, out_dir: Path, runs: Sequence[str] = ()
) -> Path:
    """Write the report for a results store (or tables already read) to ``out_dir``; return the
    HTML page's path. ``runs``: run keys (or unique prefixes) to draw per-epoch curves for; by
    default one run per task and method."""
    return make_report(source, out_dir, runs).path
