"""A mistyped name (task, spec, encoder, head, method) gets a "did you mean" with the right one."""

import pytest

from radsweep.cli.main import cli
from radsweep.errors import did_you_mean


def test_did_you_mean_names_the_closest_known_name() -> None:
    assert did_you_mean("synth-prognostc", ["synth-age", "synth-prognostic"]) == (
        "did you mean synth-prognostic? "
    )
    assert did_you_mean("zzz", ["synth-age"]) == ""


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["train", "--task", "synth-prognostc", "--backbone", "pixel-patches"], "synth-prognostic"),
        (["sweep", "plan", "fig2-ag"], "fig2-age"),
        (["weights", "fetch", "rad-dno"], "rad-dino"),
        (["train", "--task", "t", "--method", "distil"], "distill"),
        (["train", "--task", "t", "--head", "atention"], "attention"),
    ],
)
def test_a_mistyped_name_gets_a_suggestion(
    args: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(args) == 2
    error = " ".join(capsys.readouterr().err.split()).replace("│", "")
    assert f"did you mean {suggestion}?" in " ".join(error.split())
