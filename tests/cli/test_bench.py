import pytest

from radsweep.cli.main import cli


def test_bench_synth_prints_the_ratio_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "synth", "--samples", "50"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "images/s" in lines[0]
    label, value = lines[-1].rsplit(":", 1)
    assert label == "ratio end-to-end/drawing throughput"
    assert 0.0 < float(value) <= 1.5


def test_bench_restores_the_cpu_affinity() -> None:
    import os

    before = os.sched_getaffinity(0)
    assert cli(["bench", "synth", "--samples", "50"]) == 0
    assert os.sched_getaffinity(0) == before


def test_bench_train_prints_its_ratios_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "train", "--tiny", "--seeds", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert lines[-1].startswith("ratios: vectorized/sequential ")
    speedups, efficiency = lines[-1].removeprefix("ratios: vectorized/sequential ").split("; ")
    assert all(float(value) > 0 for value in speedups.split(", "))
    assert float(efficiency.rsplit(" ", 1)[1]) > 0
