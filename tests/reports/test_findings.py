"""The report opens with the paired findings: table, verdicts and the forest plot, first."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radsweep.reports.build import Report, make_report
from radsweep.reports.findings import findings_section
from radsweep.results.findings import paired_findings
from radsweep.results.store import ResultsStore
from tests.results import sweep


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A multi-backbone store (two backbones, two tasks, two fractions, three seeds)."""
    store = ResultsStore(tmp_path_factory.mktemp("store") / "results.sqlite")
    sweep.full_sweep(store)
    return make_report(store, tmp_path_factory.mktemp("report"))


def test_the_page_opens_with_the_findings_and_their_forest_plot(report: Report) -> None:
    page = report.path.read_text()
    body = page[page.index("<body>") :]
    first_section = re.search(r'<section id="([^"]+)"', body)
    assert first_section is not None and first_section.group(1) == "findings"
    assert body.index('id="findings"') < body.index('id="how-to-read"')
    first_image = re.search(r'<img src="[^"]*" alt="([^"]*)"', body)
    assert first_image is not None
    assert body.index('id="findings"') < first_image.start() < body.index('id="how-to-read"')
    assert first_image.group(1) == "Did the report help? Paired findings"
    assert report.sections[0].name == "findings"


def test_every_backbone_task_and_fraction_gets_three_paired_gains(report: Report) -> None:
    data = pd.read_csv(report.path.parent / "data" / "findings.csv")
    points = {(r.backbone, r.task, r.fraction) for r in data.itertuples()}
    assert points == {
        (b, t, f) for b in sweep.BACKBONES for t in sweep.TASKS for f in sweep.FRACTIONS
    }
    # The sweep's known numbers: distill +0.03, self-distill +0.01 over image-only on every seed,
    # both +0.01 more at tau > 1 (the diagnostic task's default tau, 2.5).
    tau_bonus = np.where(data["task"] == "synth-diagnostic", 0.01, 0.0)
    assert data["distill - image mean"].to_numpy() == pytest.approx(0.03 + tau_bonus)
    assert data["self-distill - image mean"].to_numpy() == pytest.approx(0.01 + tau_bonus)
    assert data["distill - self-distill mean"].to_numpy() == pytest.approx(0.02)
    page = report.path.read_text()
    opening = page[page.index('id="findings"') : page.index('id="how-to-read"')]
    assert opening.count("the report helped") == len(data)
    assert "RAD-DINO" in opening and "C2L" in opening
    assert "+0.020 [+0.020, +0.020]" in opening


def test_the_forest_plot_draws_every_seed(report: Report) -> None:
    section = report.sections[0]
    assert section.figure is not None
    panels = section.figure.axes
    assert [ax.get_title() for ax in panels] == [
        "distill - image",
        "self-distill - image",
        "distill - self-distill",
    ]
    rows = len(sweep.BACKBONES) * len(sweep.TASKS) * len(sweep.FRACTIONS)
    dots = [c for c in panels[2].collections if len(c.get_offsets()) == len(sweep.SEEDS)]
    assert len(dots) == rows


def test_the_section_reads_the_same_findings_as_the_library(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    sweep.full_sweep(store)
    seeds = store.seed_metrics()
    section = findings_section(seeds)
    found = paired_findings(seeds)
    assert list(section.data["verdict"]) == [finding.verdict for finding in found]
    assert list(section.data["distill - self-distill low"]) == [
        finding.control_gain.low for finding in found
    ]


def test_without_all_four_arms_the_section_says_what_is_missing() -> None:
    section = findings_section(pd.DataFrame())
    assert section.figure is None and section.missing


def test_the_section_says_how_far_each_control_resolves_and_where_it_scored(
    tmp_path: Path,
) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    sweep.full_sweep(store)
    seeds = store.seed_metrics()
    section = findings_section(seeds)
    found = paired_findings(seeds)
    assert list(section.data["distill - self-distill resolvable"]) == [
        finding.control_gain.half_width for finding in found
    ]
    assert section.table is not None and "control resolves" in section.table
    assert "Scored on held-out rows" in section.caption
    old = findings_section(seeds.drop(columns="scoring"))
    assert "validation rows that also chose the teacher's epoch" in old.caption


def test_forest_rows_and_the_table_name_training_images_and_the_verdict_comes_first(
    report: Report,
) -> None:
    """A reader compares findings by training images (n = 41), not only the fraction; on an
    800 px screen the verdict is in the table's first columns, not scrolled off to the right."""
    section = report.sections[0]
    assert section.figure is not None and section.table is not None
    labels = [tick.get_text() for tick in section.figure.axes[0].get_yticklabels()]
    data = pd.read_csv(report.path.parent / "data" / "findings.csv")
    sizes = {round(n) for n in data["n_train"]}
    median = {f: int(np.median([round(f * 400) + s for s in sweep.SEEDS])) for f in sweep.FRACTIONS}
    assert sizes == set(median.values())
    for fraction, n in median.items():
        assert sum(f"n = {n} (fraction {fraction:g})" in label for label in labels) == len(
            sweep.BACKBONES
        ) * len(sweep.TASKS)
    assert list(section.table.columns[:3]) == ["task", "training images", "verdict"]
