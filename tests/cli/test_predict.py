"""``radsweep predict``: train from the CLI, then score the task's images with the stored run."""

from pathlib import Path

import pandas as pd
import pytest

from radsweep.cli.main import cli
from radsweep.tasks.synthetic import SynthBenchmark

TRAIN = ["--backbone", "pixel-patches", "--epochs", "2", "--seeds", "0-1", "--lr", "1e-3"]


def test_predict_scores_the_task_with_a_run_trained_by_the_cli(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = ["--data-dir", str(small_benchmark.directory.parent)]
    assert cli([*data, "train", "--task", "synth-prognostic", "--fraction", "0.5", *TRAIN]) == 0
    recorded = capsys.readouterr().out.split("recorded as ")[1].split()[0]
    out = tmp_path / "probabilities.csv"
    args = [*data, "predict", "--run", recorded[:8], "--task", "synth-prognostic", "--out", out]
    assert cli([str(arg) for arg in args]) == 0
    said = capsys.readouterr().out
    assert f"400 images scored by run {recorded}" in said and "seeds 0, 1" in said
    table = pd.read_csv(out)
    assert list(table.columns)[-3:] == [
        "poor outcome_seed0",
        "poor outcome_seed1",
        "poor outcome_mean",
    ]
    assert table.iloc[:, -3:].apply(lambda column: column.between(0, 1)).all().all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "t"], "predict takes the heads from one place"),
        (["--run", "a", "--head", ".", "--task", "t"], "predict takes the heads from one place"),
        (["--head", "nowhere", "--task", "t"], "no head.json in nowhere"),
        (["--head", "nowhere"], "predict takes a task or image files"),
        (["--head", "nowhere", "--task", "t", "a.png"], "predict takes a task or image files"),
    ],
)
def test_mistakes_are_one_line_and_write_nothing(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "p.csv"
    assert cli(["predict", *args, "--out", str(out)]) == 2
    errors = capsys.readouterr().err.strip()
    assert message in errors and len(errors.splitlines()) == 1
    assert not out.exists()
