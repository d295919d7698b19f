"""``radsweep screen``: the printed verdict, evidence and limits; one-line errors; W&B logging."""

import json
from pathlib import Path

import pytest

from radsweep.cli.main import cli
from radsweep.screen import Verdict
from radsweep.settings import Settings
from tests.screen.fixtures import own_caches

SMALL = ["--backbone", "c2l", "--tiny", "--seeds", "0-1", "--epochs", "1", "--lr", "1e-3"]
SMALL += [
    "--text-encoder",
    "minilm-sentences",
    "--min-images",
    "5",
    "--min-per-class",
    "2",
]  # the tiny benchmark's small pool


@pytest.fixture
def tiny(tiny_features: Settings, tmp_path: Path) -> Settings:
    """The session's tiny benchmark with this test's own copy of its caches."""
    return own_caches(tiny_features, tmp_path / "screen")


def _args(settings: Settings, *more: str) -> list[str]:
    return [
        "--data-dir",
        str(settings.data),
        "--cache-dir",
        str(settings.cache),
        "screen",
        "synth-prognostic",
        *SMALL,
        *more,
    ]


def test_screen_prints_the_verdict_with_its_evidence_and_limits(
    tiny_features: Settings,
    tiny: Settings,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shared = sorted(tiny_features.cache.rglob("*"))
    out = isolated_home / "next.yaml"
    args = _args(tiny, "--fractions", "0.5", "--out", str(out))
    assert cli(args) == 0
    printed = capsys.readouterr().out
    assert any(f"verdict: {verdict}: " in printed for verdict in Verdict)  # one line, with advice
    assert "text-only AUC (full pool):" in printed and "threshold >= 0.90" in printed
    assert "distill minus self-distill at fraction 0.5" in printed
    assert "limits:" in printed and "2 seeds" in printed
    assert "3 runs, 0 of them already in the results store" in printed
    assert f"radsweep sweep local {out} --workers 2" in printed
    assert out.is_file()

    assert cli(_args(tiny, "--fractions", "0.5")) == 0
    assert "3 runs, 3 of them already in the results store" in capsys.readouterr().out
    assert sorted(tiny_features.cache.rglob("*")) == shared  # the text features went to the copy
    assert len(list(tiny.cache.rglob("*"))) > len(shared)


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (["--fractions", "0.1,x"], "--fractions '0.1,x' is not a list of numbers"),
        (["--fractions", "0,0.5"], "invalid fractions"),
        (["--wandb", "sometimes"], "--wandb 'sometimes' is not a W&B mode"),
        (["--seeds", "1,1"], "--seeds '1,1' repeats"),
    ],
)
def test_bad_options_are_one_line_errors(
    tiny: Settings, more: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(_args(tiny, *more)) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert len(error.strip().splitlines()) == 1


def test_an_unknown_task_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["screen", "no-such-task"]) == 2
    assert "unknown task 'no-such-task'" in capsys.readouterr().err


def test_offline_wandb_logs_one_run_with_the_table(
    tiny: Settings, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(_args(tiny, "--fractions", "0.5", "--wandb", "offline")) == 0
    printed = capsys.readouterr().out
    assert "W&B run: " in printed
    runs = list((isolated_home / "wandb").rglob("run-*.wandb"))
    assert len(runs) == 1


def test_an_unreachable_server_logs_offline_instead(
    tiny: Settings,
    isolated_home: Path,
    unreachable: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(_args(tiny, "--fractions", "0.5", "--wandb", "online")) == 0
    captured = capsys.readouterr()
    assert "it logs offline instead" in captured.err
    assert list((isolated_home / "wandb").rglob("run-*.wandb"))


def test_json_prints_the_verdict_rules_and_numbers_only(
    tiny: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(_args(tiny, "--fractions", "0.05,0.5", "--json")) == 0
    printed = json.loads(capsys.readouterr().out)  # stdout is one JSON document, nothing else
    assert printed["task"] == "synth-prognostic" and printed["verdict"]
    assert printed["fractions"] == [0.5]
    (refused,) = printed["cannot_run"]  # 0.05 of the tiny pool is a handful of images
    assert refused.startswith("cannot run the arms at fraction 0.05: ")
    groups = {group["group"]: group for group in printed["evidence"]}
    assert list(groups) == ["modalities", "probes", "headroom", "control"]
    assert ">= 0.90" in groups["modalities"]["thresholds"]
    text_rule = groups["modalities"]["rules"][0]
    assert text_rule["threshold"] == ">= 0.90" and isinstance(text_rule["number"], float)
    assert {"image only", "distill - self-distill"} <= {
        row["quantity"] for row in printed["numbers"]
    }
    assert printed["settings"]["epochs"] == 1 and printed["settings"]["lr"] == 1e-3
    assert [step["method"] for step in printed["steps"]] == ["image", "distill", "self-distill"]
