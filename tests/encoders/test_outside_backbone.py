"""A backbone added from outside the package is priced, drawn and listed like the paper's own."""

import json
from pathlib import Path

import pytest

from radsweep.cli.main import cli
from radsweep.encoders.pretrained import Pretrained
from radsweep.reports.build import build_sections
from radsweep.reports.style import backbone_order
from radsweep.results.frames import ResultFrames
from radsweep.results.store import ResultsStore
from radsweep.tasks.synthetic import SynthBenchmark
from tests.encoders.outside_backbone import DISPLAY, GFLOPS, GRID, NAME, outside_backbone
from tests.results import sweep

SPEC = """name: outside
method: grid
metric: {name: auc/final/mean, goal: maximize}
command: ["${env}", radsweep, sweep, run-config, "${args_json}"]
parameters:
  task: {value: synth-diagnostic}
  method: {value: image}
  backbone: {value: %s}
  fraction: {values: [0.1, 0.25]}
  epochs: {value: 2}
"""


def test_sweep_plan_prices_it_from_its_row(
    small_benchmark: SynthBenchmark,
    isolated_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = tmp_path / "outside.yaml"
    spec.write_text(SPEC % NAME)
    data = str(small_benchmark.directory.parent)
    with outside_backbone():
        assert cli(["--data-dir", data, "sweep", "plan", str(spec), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    (cache,) = plan["caches"]
    assert (cache["encoder"], cache["samples"]) == (NAME, 400)
    assert cache["flops"] == pytest.approx(400 * GFLOPS * 1e9)
    assert cache["bytes"] == 400 * GRID * GRID * 24 * 2
    assert plan["runs"]["distinct"] == 2


def test_a_row_without_gflops_is_refused() -> None:
    with pytest.raises(ValueError, match="needs gflops"):
        Pretrained("nameless", "image", "N", "arch", None, "MIT", None, dim=8, grid=2)


def test_the_report_draws_it_in_its_place(tmp_path: Path) -> None:
    with outside_backbone():
        order = backbone_order()
        store = ResultsStore(tmp_path / "results.sqlite")
        for backbone in ("mrm", NAME, "c2l"):
            for fraction in (0.1, 0.5):
                sweep.record(store, task="synth-age", backbone=backbone, fraction=fraction)
        sections = build_sections(ResultFrames.from_store(store))
    assert order.index("MRM") + 1 == order.index(DISPLAY) == order.index("C2L") - 1
    efficiency = next(s for s in sections if s.name == "sample-efficiency-auc")
    labels = [line.get_label() for line in efficiency.figure.axes[0].get_lines()]
    drawn = [label for label in labels if label in ("MRM", DISPLAY, "C2L")]
    assert drawn == ["MRM", DISPLAY, "C2L"]
    assert set(efficiency.data["series"]) >= {DISPLAY}


def test_features_encoders_lists_it(capsys: pytest.CaptureFixture[str]) -> None:
    with outside_backbone():
        assert cli(["features", "encoders", "--kind", "image"]) == 0
    listed = next(line for line in capsys.readouterr().out.splitlines() if NAME in line)
    assert f"{GRID}x{GRID}" in listed and " 24 " in listed
