"""``radsweep sweep specs`` and ``radsweep sweep plan``: what a user sees before a sweep."""

import json
from pathlib import Path

import pytest

from radsweep.cli.main import cli


def test_specs_lists_every_packaged_spec_with_its_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "specs"]) == 0
    rows = {
        line.split("│")[1].strip(): line
        for line in capsys.readouterr().out.splitlines()
        if line.count("│") >= 3
    }
    assert "fig2-mimic-5x1200" in rows and " 42 " in rows["fig2-mimic-5x1200"]


def test_plan_of_two_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "plan", "fig2-mimic-5x1200", "fig3-mimic-5x1200", "--device", "h100"]) == 0
    out = capsys.readouterr().out
    assert "runs: 150 distinct (186 listed; 36 shared between specs)" in out
    assert "feature caches: 8" in out
    assert "image mimic-5x1200     rad-dino" in out and "12.6 GB" in out
    assert "H100 SXM:" in out and "A100" not in out
    assert out.strip().splitlines()[-1].startswith("the paper: about 5,000 T4-hours")


def test_plan_uses_a_saved_bench_result(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = isolated_home / "bench" / "device.json"
    saved.parent.mkdir(parents=True)
    device = {"name": "this CPU", "extract_tflops": 0.1, "train_tflops": 0.05, "source": "bench"}
    saved.write_text(json.dumps(device))
    assert cli(["sweep", "plan", "table7-text-mimic-inspect", "--device", "measured"]) == 0
    assert "this CPU:" in capsys.readouterr().out


def test_plan_of_a_missing_spec_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "plan", "no-such-spec"]) == 2
    assert "radsweep sweep specs" in capsys.readouterr().err
