import json
import math
from pathlib import Path
from typing import Any

import pytest

from radsweep.cli.main import cli
from radsweep.settings import Settings


def _rate(line: str) -> float:
    """The images/s figure of a bench line such as ``end to end   :    41.2 images/s (...)``."""
    return float(line.split(":", 1)[1].split("images/s")[0])


def test_bench_synth_prints_the_ratio_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "synth", "--samples", "50"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "images/s" in lines[0]
    label, value = lines[-1].rsplit(":", 1)
    assert label == "ratio end-to-end/drawing throughput"
    # the ratio of the two printed throughputs, whatever this machine's speed
    assert float(value) > 0
    assert float(value) == pytest.approx(_rate(lines[1]) / _rate(lines[0]), rel=0.01, abs=2e-3)


def test_bench_restores_the_cpu_affinity() -> None:
    import os

    before = os.sched_getaffinity(0)
    assert cli(["bench", "synth", "--samples", "50"]) == 0
    assert os.sched_getaffinity(0) == before


def test_bench_train_prints_its_ratios_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "train", "--tiny", "--seeds", "0-2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert lines[-1].startswith("ratios: vectorized/sequential ")
    speedups, efficiency = lines[-1].removeprefix("ratios: vectorized/sequential ").split("; ")
    assert all(float(value) > 0 for value in speedups.split(", "))
    assert float(efficiency.rsplit(" ", 1)[1]) > 0


def test_bench_extract_prints_the_ratio_last(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from radsweep.bench import features
    from tests.features.doubles import TinyImageEncoder

    monkeypatch.setattr(features, "bench_encoder", TinyImageEncoder)
    args = ["bench", "extract", "--images", "50", "--batch-size", "10", "--rounds", "1"]
    assert cli([*args, "--workers", "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("round 1: forward")
    label, value = lines[-1].rsplit(":", 1)
    assert label == "ratio end-to-end/forward throughput"
    forward, end_to_end = (_rate(line) for line in lines[-3:-1])
    assert float(value) > 0
    assert float(value) == pytest.approx(end_to_end / forward, rel=0.01, abs=2e-3)


TINY_SPEC = """\
method: grid
parameters:
  task: {value: synth-prognostic}
  backbone: {value: c2l}
  tiny: {value: true}
  fraction: {values: [0.5, 1.0, 0.25]}
  seeds: {value: [0, 1]}
  epochs: {value: 1}
"""


@pytest.fixture
def spec(tiny_features: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-run spec over the session's tiny feature caches, which the bench reads."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SPEC)
    monkeypatch.setenv("RADSWEEP_DATA_DIR", str(tiny_features.data))
    monkeypatch.setenv("RADSWEEP_CACHE_DIR", str(tiny_features.cache))
    return path


def test_bench_sweep_prints_each_component_and_the_ratio_last(
    spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["bench", "sweep", str(spec), "--runs", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].startswith("2 runs in ")
    total = float(lines[1].removeprefix("2 runs in ").split(" s ")[0])
    rows = {
        cells[0]: [float(cell.rstrip("%")) for cells in [cells] for cell in cells[1:]]
        for line in lines
        if line.startswith("│")
        for cells in [[cell.strip() for cell in line.strip("│").split("│")]]
    }
    assert list(rows) == [
        "training",
        "queue (overhead)",
        "tracking (overhead)",
        "store (overhead)",
        "features",
        "other",
    ]
    assert all(seconds >= 0 for seconds, _, _ in rows.values())  # no stage counted twice
    assert sum(seconds for seconds, _, _ in rows.values()) == pytest.approx(total, abs=0.1)
    assert rows["training"][0] > 0 and rows["tracking (overhead)"][0] > 0
    label, value = lines[-1].rsplit(":", 1)
    assert label == "ratio overhead/training time"
    shares = sum(rows[f"{stage} (overhead)"][2] for stage in ("queue", "tracking", "store"))
    assert math.isfinite(float(value)) and float(value) > 0
    assert 100 * float(value) == pytest.approx(shares, abs=0.2)  # percent of training, rounded
    assert not (Settings().results / "queue.sqlite").exists()  # the bench's queue was temporary


@pytest.mark.slow
def test_bench_gpu_tiny_runs_the_whole_path_on_the_cpu(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every backbone in fp32 and mixed precision, both heads, the study, ratios last."""
    assert cli(["bench", "gpu", "--tiny", "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    extract = [line for line in lines if line.startswith("extract")]
    assert len(extract) == 7 * 2 and sum("bf16" in line for line in extract) == 7
    assert sum(line.startswith("train") for line in lines) == 2
    study = next(line for line in lines if line.startswith("study"))
    assert "runs" in study and "5,000 T4-hours" in study
    assert lines[-1].startswith("ratios: mixed/fp32 extraction rad-dino")
    assert "vectorized/sequential attention" in lines[-1] and "Mean-LP" in lines[-1]
    heads = [line for line in lines if line.startswith("head")]
    assert len(heads) == 2 and "fp32" in heads[0] and "bf16" in heads[1]  # no TF32 off CUDA
    assert "bf16/fp32 head step tiny (16 x 32)" in lines[-1]
    assert not (isolated_home / "bench" / "device.json").exists()  # tiny numbers are no measure
    assert not (isolated_home / "bench" / "gpu-rates.json").exists()


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    """The command's stdout, which must be exactly one JSON document."""
    import json

    return json.loads(capsys.readouterr().out)


def test_bench_synth_json_carries_the_ratio_of_its_rates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(["bench", "synth", "--samples", "50", "--json"]) == 0
    payload = _json(capsys)
    assert payload["samples"] == 50
    drawing, end_to_end = (
        payload[f"{side}_images_per_second"] for side in ("drawing", "end_to_end")
    )
    ratio = payload["ratios"]["end_to_end_over_drawing"]
    assert ratio == pytest.approx(end_to_end / drawing)


def test_bench_train_json_takes_the_seed_list_of_train(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(["bench", "train", "--tiny", "--seeds", "1,3", "--json"]) == 0
    payload = _json(capsys)
    assert payload["seeds"] == [1, 3]
    shapes = payload["shapes"]
    ratios = payload["ratios"]
    assert [shape["shape"] for shape in shapes] == list(ratios["vectorized_over_sequential"])
    for shape in shapes:
        speedup = ratios["vectorized_over_sequential"][shape["shape"]]
        assert speedup > 0 and shape["vectorized_seconds"] > 0
    assert ratios["attention_step_over_gemm"] > 0


def test_bench_train_refuses_a_count_for_its_seed_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(["bench", "train", "--tiny", "--seeds", "1,1"]) == 2
    assert "--seeds '1,1' repeats" in capsys.readouterr().err


def test_bench_extract_json_keeps_its_notes_off_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from radsweep.bench import features
    from tests.features.doubles import TinyImageEncoder

    monkeypatch.setattr(features, "bench_encoder", TinyImageEncoder)
    args = ["bench", "extract", "--images", "50", "--batch-size", "10", "--rounds", "2"]
    assert cli([*args, "--workers", "0", "--json"]) == 0
    captured = capsys.readouterr()
    assert "round 1: forward" in captured.err
    import json

    payload = json.loads(captured.out)
    assert payload["images"] == 50 and len(payload["rounds"]) == 2
    best = max(one["end_to_end_rate"] for one in payload["rounds"])
    forward = max(one["forward_rate"] for one in payload["rounds"])
    assert payload["ratios"]["end_to_end_over_forward"] == pytest.approx(best / forward)


def test_bench_sweep_json_adds_up(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "sweep", str(spec), "--runs", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "features for the first 1 runs" in captured.err
    payload = json.loads(captured.out)
    seconds = payload["seconds"]
    assert payload["runs"] == 1
    assert sum(seconds.values()) == pytest.approx(payload["total_seconds"])
    overhead = sum(seconds[stage] for stage in payload["overhead"])
    ratio = payload["ratios"]["overhead_over_training"]
    assert ratio == pytest.approx(overhead / seconds["training"])
