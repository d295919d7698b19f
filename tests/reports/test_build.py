"""The report: every figure from a small synthetic sweep, the numbers behind each point checked
against the stored rows, headless rendering, and half-done grids."""

import base64
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from radsweep.errors import RadsweepError
from radsweep.reports.build import Report, build_report, make_report
from radsweep.reports.style import task_order
from radsweep.results.store import ResultsStore
from radsweep.stats import t_interval
from radsweep.tracking.reader import frames_from_wandb_runs
from radsweep.training.config import Method
from tests.reports.layout import collisions, legend_px, y_limits
from tests.results import sweep

ROOT = Path(__file__).parents[2]
FIGURES = {
    "findings",
    "sample-efficiency-auc",
    "sample-efficiency-auprc",
    *(
        f"{kind}-{task}"
        for task in sweep.TASKS
        for kind in ("distillation-auc", "distillation-auprc", "distillation-seeds", "curves")
    ),
    "ablation-head",
    "ablation-tau",
    "ablation-lambda",
    "ablation-text-encoder",
}
MIN_LEGEND = 9.0  # px at 800 px display width
INTERVAL_FIGURES = (
    FIGURES
    - {"findings"}
    - {f"{kind}-{task}" for task in sweep.TASKS for kind in ("distillation-seeds", "curves")}
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ResultsStore:
    store = ResultsStore(tmp_path_factory.mktemp("store") / "results.sqlite")
    sweep.full_sweep(store)
    return store


@pytest.fixture(scope="module")
def report(store: ResultsStore, tmp_path_factory: pytest.TempPathFactory) -> Report:
    return make_report(store, tmp_path_factory.mktemp("report"))


def _section(report: Report, name: str):
    return next(section for section in report.sections if section.name == name)


def test_every_figure_is_written_as_png_and_svg(report: Report) -> None:
    out = report.path.parent
    drawn = {section.name for section in report.sections if section.figure is not None}
    assert drawn == FIGURES
    for name in FIGURES:
        assert (out / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        root = ElementTree.parse(out / "figures" / f"{name}.svg").getroot()
        assert root.tag.endswith("svg")
        assert len(pd.read_csv(out / "data" / f"{name}.csv")) > 0
    assert len(pd.read_csv(out / "data" / "table-7.csv")) == 4
    leftovers = [path for path in out.rglob("*") if path.name.endswith(".tmp")]
    assert not leftovers


def test_the_html_page_embeds_every_figure(report: Report) -> None:
    page = report.path.read_text()
    embedded = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == len(FIGURES)
    files = {(report.path.parent / "figures" / f"{name}.png").read_bytes() for name in FIGURES}
    assert {base64.b64decode(data) for data in embedded} == files
    for section in report.sections:
        assert f'<section id="{section.name}">' in page
    assert "Student-t confidence intervals" in page and "final-epoch" in page
    assert "<table" in page and "BioViL-T BERT" in page  # Table 7
    assert "Missing grid points: none" not in page  # only figures that miss points say so


def test_notes_are_shown_once_per_figure_group(report: Report) -> None:
    page = report.path.read_text()
    for task in sweep.TASKS:
        group = [s for s in report.sections if s.group == f"distillation-{task}"]
        assert [s.name.rsplit("-", 1)[0] for s in group] == [
            f"distillation-{kind}-synth" for kind in ("auc", "auprc", "seeds")
        ]
        held = [note for note in group[0].notes if "held at" in note]
        assert len(held) == 6  # τ, λ, text encoder (distill), τ, λ (self-distill), teacher text
        for note in held:
            assert all(note in section.notes for section in group)
            assert page.count(f"<li>{note}</li>") == 1
        assert page.index(f'id="notes-distillation-{task}"') < page.index(f'id="{group[0].name}"')


def test_figures_are_readable_at_800_px(report: Report) -> None:
    """Titles, axis labels and legends neither collide nor leave the figure, panels share one y
    scale, and legend text is at least 9 px tall once the PNG is scaled to 800 px wide."""
    for section in report.sections:
        if section.figure is None:
            continue
        with Image.open(report.path.parent / "figures" / f"{section.name}.png") as png:
            width, dpi = png.width, png.info["dpi"][0]
        assert collisions(section.figure, dpi) == [], section.name
        assert len(y_limits(section.figure)) == 1, section.name
        assert 400 <= width <= 1210, section.name  # at most 11 in at 110 dpi
        sizes = legend_px(section.figure, width, dpi)
        assert min(sizes, default=MIN_LEGEND) >= MIN_LEGEND, section.name


def _check_intervals(csv: pd.DataFrame, seeds: pd.DataFrame) -> None:
    """Each plotted point equals the mean and t-interval of its run's stored seed rows."""
    model = seeds[seeds["stage"] == "model"]
    for point in csv.itertuples(index=False):
        values = model.loc[model["run_key"] == point.run_key, point.metric].to_numpy()
        interval = t_interval(values, point.level)
        assert point.seeds == len(values) == len(sweep.SEEDS)
        np.testing.assert_allclose(
            [point.mean, point.low, point.high], [interval.mean, interval.low, interval.high]
        )


def test_the_numbers_behind_every_point_are_the_stored_rows(
    report: Report, store: ResultsStore
) -> None:
    seeds = store.seed_metrics()
    for name in INTERVAL_FIGURES:
        csv = pd.read_csv(report.path.parent / "data" / f"{name}.csv")
        _check_intervals(csv, seeds)
        expected = 0.90 if name.startswith("sample-efficiency") else 0.95
        assert set(csv["level"]) == {expected}


def test_points_match_the_configurations_they_plot(report: Report, store: ResultsStore) -> None:
    """Known numbers: the stored result of each configuration is a formula of it."""
    csv = pd.read_csv(report.path.parent / "data" / "sample-efficiency-auc.csv")
    runs = store.runs().set_index("run_key")
    for point in csv.itertuples(index=False):
        run = runs.loc[point.run_key]
        assert (run["method"], run["head"], run["task"]) == ("image", "attention", point.task)
        expected = sweep.final_auc(sweep.RunConfig.model_validate_json(run["config"])).mean()
        assert point.mean == pytest.approx(expected)
        assert point.n_train == pytest.approx(round(point.fraction * 400) + 1)  # seeds 0, 1, 2
    distill = pd.read_csv(report.path.parent / "data" / "distillation-auc-synth-prognostic.csv")
    methods = {
        arm: set(runs.loc[distill.loc[distill["arm"] == arm, "run_key"], "method"])
        for arm in distill["arm"].unique()
    }
    assert methods == {
        "image": {"image"},
        "self-distill": {"self-distill"},
        "distill": {"distill"},
        "teacher": {"teacher"},
    }
    assert set(runs.loc[distill["run_key"], "tau"].dropna()) == {0.25}  # the task's τ


def test_plotted_lines_are_the_csv_means(report: Report) -> None:
    section = _section(report, "sample-efficiency-auc")
    axes = section.figure.axes[: len(sweep.TASKS)]
    for ax, task in zip(axes, task_order(sweep.TASKS), strict=True):
        for line in ax.get_lines():
            rows = section.data[
                (section.data["task"] == task) & (section.data["series"] == line.get_label())
            ]
            np.testing.assert_allclose(line.get_ydata(), rows.sort_values("n_train")["mean"])
            np.testing.assert_allclose(line.get_xdata(), rows.sort_values("n_train")["n_train"])
    distill = _section(report, "distillation-auc-synth-diagnostic")
    bars = [container for ax in distill.figure.axes for container in ax.containers]
    plotted = sorted(y for bar in bars for y in bar.lines[0].get_ydata())
    np.testing.assert_allclose(plotted, sorted(distill.data["mean"]))


def test_ablations_table7_and_curves(report: Report, store: ResultsStore) -> None:
    tau = _section(report, "ablation-tau").data
    assert set(tau["setting"]) == {"τ = 0.25", "τ = 0.5", "τ = 2", "image only (attention head)"}
    assert set(tau["task"]) == {"synth-prognostic"}  # the only task that varied τ
    heads = _section(report, "ablation-head")
    assert set(heads.data["head"]) == {"attention", "mean-lp", "cls-lp"}
    assert heads.figure is not None  # the head catalogue's order and display names
    shown = [text.get_text() for text in heads.figure.legends[0].get_texts()]
    assert shown == ["Attention head", "Mean - LP", "CLS - LP", "shaded: 95% t-interval"]
    table = _section(report, "table-7").data
    seeds = store.seed_metrics()
    for row in table.itertuples(index=False):
        text = seeds.loc[(seeds["run_key"] == row.text_run_key) & (seeds["stage"] == "model")]
        assert row.text_mean == pytest.approx(text["final_auc"].mean())
        assert row.text_sd == pytest.approx(text["final_auc"].std(ddof=1))
        assert row.image_model == "RAD-DINO"  # the better backbone of the synthetic sweep
    curves = _section(report, "curves-synth-prognostic")
    assert len(curves.figure.axes) == 5  # one run per method
    means = curves.data[curves.data["line"] == "mean"]
    stored = store.curves()
    for (key, stage), rows in means.groupby(["run_key", "stage"]):
        expected = stored[(stored["run_key"] == key) & (stored["stage"] == stage)]
        np.testing.assert_allclose(rows["auc"], expected.groupby("epoch")["auc"].mean())


def test_a_half_done_grid_renders_what_exists(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    task = "synth-prognostic"
    for backbone, fraction in (("rad-dino", 0.1), ("rad-dino", 0.5), ("c2l", 0.1)):
        sweep.record(store, task=task, backbone=backbone, fraction=fraction)
    for tau in (0.5, 2.0):
        sweep.record(store, task=task, backbone="c2l", method=Method.DISTILL, tau=tau, fraction=0.5)
    written = make_report(store, tmp_path / "report")
    missing = {section.name: section.missing for section in written.sections}
    assert missing["sample-efficiency-auc"] == ["Synthetic prognostic: C2L, fraction 0.5"]
    distill = missing[f"distillation-auc-{task}"]
    assert "Synthetic prognostic: C2L, fraction 0.5, image" in distill
    assert "Synthetic prognostic: C2L, fraction 0.5, self-distill" in distill
    assert "Synthetic prognostic: C2L, fraction 0.5, teacher" not in distill  # the stand-in
    assert any("no runs vary lam" in line for line in missing["ablation-lambda"])
    assert missing["ablation-tau"] == [
        "Synthetic prognostic: C2L, fraction 0.5, image only (attention head)"
    ]
    assert missing["table-7"] == ["Synthetic prognostic: no text-only runs"]
    page = written.path.read_text()
    assert "Synthetic prognostic: C2L, fraction 0.5, image" in page
    absent = [section for section in written.sections if not section.shown]
    assert {section.name for section in absent} == {
        "findings",
        "ablation-head",
        "ablation-lambda",
        "ablation-text-encoder",
        "table-7",
    }
    closing = page.index('<section id="not-in-this-study">')
    assert all(page.index(f'<li id="{section.name}">') > closing for section in absent)
    last_shown = max(page.index(f'<section id="{s.name}">') for s in written.sections if s.shown)
    assert last_shown < closing
    assert page.count("Synthetic prognostic: distill τ held at 0.5") == 1
    assert page.count('<img src="data:image/png') == 7  # efficiency 2, distillation 3, τ, curves
    section = next(s for s in written.sections if s.name == f"distillation-auc-{task}")
    assert any("teacher stage of distillation runs" in note for note in section.notes)
    assert "Synthetic prognostic: distill τ held at 0.5" in section.notes  # no run at 0.25
    teacher = section.data[section.data["arm"] == "teacher"]
    assert len(teacher) == 1
    stage = store.seed_metrics(teacher["run_key"].iloc[0]).query("stage == 'teacher'")
    assert teacher["mean"].iloc[0] == pytest.approx(stage["final_auc"].mean())
    assert stage["tau"].iloc[0] == 0.5


def test_requested_runs_get_curves_and_unknown_ones_are_listed(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    key = sweep.record(store, task="synth-age", backbone="c2l", fraction=0.1).key
    sweep.record(store, task="synth-age", backbone="mrm", fraction=0.1)
    written = make_report(store, tmp_path, runs=[key[:8], "zzzz"])
    section = next(s for s in written.sections if s.name == "curves-selected")
    assert len(section.figure.axes) == 1 and set(section.data["run_key"]) == {key}
    assert section.missing == ["run zzzz: no run match"]
    assert not any(s.name.startswith("curves-synth") for s in written.sections)


def test_every_figure_with_intervals_names_their_level(report: Report) -> None:
    """The page draws 90 % and 95 % intervals: each figure's legend (or title) says which."""
    expected = {"sample-efficiency": "90%", "distillation-au": "95%", "ablation": "95%"}
    checked = set()
    for section in report.sections:
        if section.figure is None:
            continue
        texts = [t.get_text() for legend in section.figure.legends for t in legend.get_texts()]
        texts += [text.get_text() for text in section.figure.texts]
        for prefix, level in expected.items():
            if section.name.startswith(prefix):
                assert any(f"{level} t-interval" in text for text in texts), section.name
                checked.add(prefix)
        if section.name == "findings":
            assert any("95% t-intervals" in text for text in texts)
    assert checked == set(expected)


def test_curves_default_to_the_fraction_the_findings_are_at(tmp_path: Path) -> None:
    """Findings at fraction 0.1 only (image-only also ran at 0.5): the curves show the 0.1 runs
    the page opens with, not the largest fraction."""
    store = ResultsStore(tmp_path / "results.sqlite")
    sweep.main_grid(store, tasks=("synth-prognostic",), backbones=("c2l",), fractions=(0.1,))
    sweep.record(store, task="synth-prognostic", backbone="c2l", fraction=0.5)
    written = make_report(store, tmp_path / "report")
    section = next(s for s in written.sections if s.name == "curves-synth-prognostic")
    shown = store.runs().set_index("run_key").loc[sorted(set(section.data["run_key"]))]
    assert set(shown["fraction"]) == {0.1}
    assert set(shown["method"]) == {"image", "teacher", "distill", "self-distill", "text"}


def test_runs_logged_online_link_to_their_wandb_page(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    online = sweep.record(store, task="synth-age", backbone="c2l", fraction=0.1).key
    offline = sweep.record(store, task="synth-age", backbone="mrm", fraction=0.1).key
    url = "https://wandb.ai/team/radsweep/runs/abc123"
    store.set_wandb(online, "abc123", url, None)
    store.set_wandb(offline, "def456", None, None)
    written = make_report(store, tmp_path / "report", runs=[online, offline])
    section = next(s for s in written.sections if s.name == "curves-selected")
    assert [link for _, link in section.links] == [url]
    assert f'<a href="{url}">run {online[:8]}' in written.path.read_text()


def test_a_report_from_wandb_runs_without_sizes_plots_fractions(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results.sqlite")
    done = [sweep.record(store, task="synth-age", backbone="c2l", fraction=f) for f in (0.1, 0.5)]
    runs = [sweep.as_wandb_run(each, f"2026-01-0{i}", sizes=False) for i, each in enumerate(done)]
    written = make_report(frames_from_wandb_runs(runs, "W&B project e/p"), tmp_path / "report")
    section = next(s for s in written.sections if s.name == "sample-efficiency-auc")
    assert section.figure.axes[0].get_xlabel() == "training fraction (log scale)"
    np.testing.assert_allclose(
        section.data.sort_values("fraction")["mean"],
        [each.result.model.final_auc.mean() for each in done],
    )
    assert "From W&amp;B project e/p: 2 runs" in written.path.read_text()


def test_an_empty_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RadsweepError, match="holds no runs yet"):
        build_report(ResultsStore(tmp_path / "results.sqlite"), tmp_path / "report")
    assert not (tmp_path / "report" / "report.html").exists()


HEADLESS = """
import sys
from pathlib import Path
from radsweep.reports import build_report
from radsweep.results.store import ResultsStore
from radsweep.tracking.reader import frames_from_wandb_runs
from tests.results import sweep

store = ResultsStore(Path(sys.argv[1]) / "results.sqlite")
sweep.record(store, task="synth-age", backbone="c2l", fraction=0.1)
print(build_report(store, Path(sys.argv[1]) / "report"))
assert "matplotlib.pyplot" not in sys.modules
"""


def test_reports_render_headless(tmp_path: Path) -> None:
    """No display and a GUI backend configured: figures never touch pyplot or a GUI."""
    environment = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    environment |= {"MPLBACKEND": "TkAgg", "PYTHONPATH": f"{ROOT / 'app'}{os.pathsep}{ROOT}"}
    result = subprocess.run(
        [sys.executable, "-c", HEADLESS, str(tmp_path)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_file()
