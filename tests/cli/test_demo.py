"""``radsweep demo``: the whole pipeline on a small benchmark, then a second run that reuses it."""

from pathlib import Path

import pytest

from radsweep.cli.main import cli


@pytest.mark.slow
def test_demo_runs_the_pipeline_then_reuses_everything(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = isolated_home / "report"
    args = ["demo", "--samples", "400", "--workers", "1", "--out", str(report)]
    assert cli(args) == 0
    first = capsys.readouterr().out
    assert "built synthetic benchmark (400 samples)" in first
    assert "12 configurations" in first
    for task in ("synth-diagnostic", "synth-prognostic"):
        assert f"{task}: distillation beats image-only at" in first
    html = (report / "report.html").read_text()
    assert "Sample efficiency (AUC)" in html
    assert "Distillation: Synthetic prognostic (AUC)" in html
    assert (report / "figures" / "distillation-auc-synth-diagnostic.png").is_file()
    assert list((isolated_home / "wandb").rglob("*.wandb"))  # offline W&B runs

    assert cli(args) == 0
    second = capsys.readouterr().out
    assert "reused synthetic benchmark" in second
    assert "all 12 runs of the demo sweep are stored: nothing to train" in second
    assert "report unchanged: the same 12 runs" in second
