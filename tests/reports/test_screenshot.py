"""The report in a real headless Chromium at 800 px: the page does not scroll sideways, every
figure fits, legends stay at least 9 px tall as shown, and the first-screen picture is taken.
Skipped where no Chromium is installed; the missing-browser error is tested everywhere."""

import json
import re
from html import unescape
from pathlib import Path

import pytest
from PIL import Image

from radsweep.errors import RadsweepError
from radsweep.reports.build import Report, make_report
from radsweep.reports.screenshot import find_browser, headless, screenshot
from radsweep.results.store import ResultsStore
from tests.results import sweep

ROOT = Path(__file__).parents[2]
WIDTH = 800
DPI = 110  # the report's PNGs
needs_browser = pytest.mark.skipif(find_browser() is None, reason="no Chromium on PATH")
MEASURE = """<script>
window.addEventListener("load", () => document.body.setAttribute("data-layout", JSON.stringify({
  page: document.documentElement.scrollWidth,
  images: Array.from(document.images).map(
    (image) => [image.alt, image.getBoundingClientRect().width, image.naturalWidth]),
})));
</script></body>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    store = ResultsStore(tmp_path_factory.mktemp("store") / "results.sqlite")
    sweep.main_grid(store, tasks=("synth-diagnostic",), backbones=("rad-dino",))
    return make_report(store, tmp_path_factory.mktemp("report"))


@needs_browser
def test_the_page_at_800_px_keeps_figures_and_legends_readable(
    report: Report, tmp_path: Path
) -> None:
    page = tmp_path / "measured.html"
    page.write_text(report.path.read_text().replace("</body>", MEASURE))
    dom = headless(page, WIDTH, 900, "--dump-dom", "--virtual-time-budget=5000").stdout
    found = re.search(r'data-layout="([^"]*)"', dom)
    assert found is not None, "the page never finished loading"
    layout = json.loads(unescape(found.group(1)))
    assert layout["page"] <= WIDTH  # nothing scrolls sideways: wide tables scroll in place
    titles = {section.title: section for section in report.sections}
    assert len(layout["images"]) == sum(section.figure is not None for section in titles.values())
    for alt, shown, natural in layout["images"]:
        assert 0 < shown <= WIDTH and natural > 0
        figure = titles[alt].figure
        for legend in figure.legends:
            for text in legend.get_texts():
                assert text.get_fontsize() * DPI / 72 * shown / natural >= 9.0, alt


@needs_browser
def test_the_first_screen_is_written_small(report: Report, tmp_path: Path) -> None:
    out = screenshot(report.path, tmp_path / "images" / "report.png", WIDTH, 700, 250_000)
    assert out.stat().st_size <= 250_000
    with Image.open(out) as image:
        assert image.size == (WIDTH, 700)
        colours = image.convert("RGB").getcolors(maxcolors=1024)
    assert colours is not None and len(colours) > 16  # text and a plot, not a blank page
    assert not list(out.parent.glob("*.tmp"))


def test_without_a_browser_or_a_page_the_error_says_what_to_do(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RadsweepError, match="no report at") as missing:
        screenshot(tmp_path / "nowhere.html", tmp_path / "shot.png")
    assert "radsweep report --out" in missing.value.one_line()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RadsweepError, match="no Chromium browser on PATH") as absent:
        screenshot(report.path, tmp_path / "shot.png")
    assert "apt-get install chromium" in absent.value.one_line()
    assert not (tmp_path / "shot.png").exists()


def test_the_readme_picture_is_a_small_first_screen() -> None:
    with Image.open(ROOT / "docs" / "images" / "report.png") as image:
        assert image.format == "PNG" and 800 <= image.width <= 1000
    assert (ROOT / "docs" / "images" / "report.png").stat().st_size <= 250_000
