from pathlib import Path

import pytest

from radsweep.cli.main import cli


def test_demo_builds_then_reuses_and_summarises(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["demo", "--samples", "300"]) == 0
    first = capsys.readouterr().out
    assert "built synthetic benchmark (300 samples)" in first
    for name in ("synth-diagnostic", "synth-prognostic", "synth-age"):
        assert name in first
    assert "report" in first and "image" in first
    assert cli(["demo", "--samples", "300"]) == 0
    assert "reused synthetic benchmark" in capsys.readouterr().out
