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


def test_bench_extract_prints_the_ratio_last(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from radsweep.cli import bench
    from tests.features.doubles import TinyImageEncoder

    monkeypatch.setattr(bench, "_bench_encoder", TinyImageEncoder)
    args = ["bench", "extract", "--images", "50", "--batch-size", "10", "--rounds", "1"]
    assert cli([*args, "--workers", "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("round 1: forward")
    label, value = lines[-1].rsplit(":", 1)
    assert label == "ratio end-to-end/forward throughput"
    assert 0.0 < float(value) < 2.0
