"""``bench gpu``'s result: the ratios it prints and the ones its JSON carries are the same."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from radsweep.bench.gpu import DeviceBench, ExtractionRate, HeadSpeedup
from radsweep.bench.heads import HeadRate, HeadShape
from radsweep.cli.output import print_json
from radsweep.sweeps.plan import PAPER_T4_HOURS, Device, load_plan
from radsweep.training.config import Precision


def _bench(tmp_path: Path) -> DeviceBench:
    rates = (
        ExtractionRate("rad-dino", 518, "fp32", 8, 10.0, 2**30, 1e11),
        ExtractionRate("rad-dino", 518, "bf16", 8, 25.0, 2**29, 1e11),
    )
    heads = (
        HeadSpeedup("ViT-B tokens (197 x 768), attention", 5, 2.0, 6.0, 1e12),
        HeadSpeedup("ViT-B tokens (197 x 768), Mean-LP", 5, 1.0, 4.0, 1e9),
    )
    device = Device("test device (measured)", 40.0, 10.0, "radsweep bench gpu on test device")
    return DeviceBench(device, rates, heads, load_plan(["demo"], False, tmp_path), None)


def test_the_ratios_line_comes_last_and_matches_the_numbers(tmp_path: Path) -> None:
    lines = _bench(tmp_path).lines()
    assert lines[0].startswith("extract rad-dino")
    assert lines[-1].startswith("ratios: mixed/fp32 extraction rad-dino 2.50; ")
    assert "vectorized/sequential attention 3.00, Mean-LP 4.00" in lines[-1]


def test_the_json_summary_carries_every_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _bench(tmp_path)
    print_json(bench.summary())
    payload = json.loads(capsys.readouterr().out)
    ratios = payload["ratios"]
    assert ratios["mixed_over_fp32"] == {"rad-dino": 2.5}
    assert list(ratios["vectorized_over_sequential"].values()) == [3.0, 4.0]
    hours = payload["study"]["extraction_hours"] + payload["study"]["training_hours"]
    assert ratios["paper_hours_over_projected"] == PAPER_T4_HOURS / hours
    assert payload["study"]["runs"] == 6 and len(payload["extraction"]) == 2
    assert payload["extraction"][1]["precision"] == "bf16" and payload["saved"] is None


def test_precision_ratios_are_fp32_step_time_over_each_precisions() -> None:
    shape = HeadShape(("rad-dino",), 1369, 768)
    rates = tuple(
        HeadRate(shape, precision, 5, 64, seconds, 1e-5, 2**30, 1e12)
        for precision, seconds in ((Precision.FP32, 0.3), (Precision.TF32, 0.15),
                                   (Precision.BF16, 0.1))
    )  # fmt: skip
    bench = replace(_bench(Path("/nonexistent")), head_rates=rates)
    assert bench.precision_ratios("bf16") == {shape.name: pytest.approx(3.0)}
    lines = bench.lines()
    heads = [line for line in lines if line.startswith("head    rad-dino (1369 x 768)")]
    assert len(heads) == 3 and "peak 1.00 GiB" in heads[0] and "3.33 TFLOP/s" in heads[0]
    assert "tf32/fp32 head step rad-dino (1369 x 768) 2.00" in lines[-1]
    assert "bf16/fp32 head step rad-dino (1369 x 768) 3.00" in lines[-1]
    assert bench.summary()["ratios"]["fp32_over_bf16_step"] == {shape.name: pytest.approx(3.0)}
