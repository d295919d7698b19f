"""``radsweep train``: one configuration from the CLI, its table, and its one-line errors."""

import json

import pytest

from radsweep.cli.main import cli
from radsweep.cli.train import parse_seeds
from radsweep.errors import RadsweepError
from radsweep.tasks.synthetic import SynthBenchmark

TINY = ["--backbone", "c2l", "--tiny", "--epochs", "2", "--seeds", "0-1"]


def _data(benchmark: SynthBenchmark) -> list[str]:
    return ["--data-dir", str(benchmark.directory.parent)]


def test_train_prints_seeds_and_interval_then_reuses_the_store(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        *_data(small_benchmark),
        "train",
        "--task",
        "synth-prognostic",
        *TINY,
        "--method",
        "distill",
        "--fraction",
        "0.5",
    ]
    assert cli(args) == 0
    output = capsys.readouterr().out
    assert "synth-prognostic · c2l · distill" in output
    header = next(line for line in output.splitlines() if "seed" in line and "AUC" in line)
    assert "teacher" in header and "image-only" in header
    assert "95% t-interval" in output and "recorded as" in output
    assert cli(args) == 0
    assert "already in the results store" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--lam", "1.5", "invalid lam"),
        ("--tau", "0", "invalid tau"),
        ("--fraction", "1.5", "invalid fraction"),
        ("--seeds", "a-b", "--seeds 'a-b' is not a seed list"),
    ],
)
def test_bad_values_are_one_line_errors(
    small_benchmark: SynthBenchmark,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    args = [*_data(small_benchmark), "train", "--task", "synth-prognostic", *TINY, option, value]
    assert cli(args) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("radsweep: error: ") and message in error
    assert "\n" not in error


def test_a_training_subset_without_a_class_is_a_one_line_error(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1 % of a 5-class task's pool: a handful of samples cannot hold every class.
    args = [*_data(small_benchmark), "train", "--task", "synth-age", *TINY, "--fraction", "0.01"]
    assert cli(args) == 2
    assert "has no sample of" in capsys.readouterr().err


def test_seed_lists() -> None:
    assert parse_seeds("0-4") == (0, 1, 2, 3, 4)
    assert parse_seeds("0,2,7") == (0, 2, 7)
    assert parse_seeds("3") == (3,)
    with pytest.raises(RadsweepError):
        parse_seeds("1,1")


@pytest.mark.parametrize("lr", ["1e30", "inf"])
def test_divergent_training_fails_and_stores_nothing(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str], lr: str
) -> None:
    args = [*_data(small_benchmark), "train", "--task", "synth-prognostic", *TINY, "--lr", lr]
    assert cli(args) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("radsweep: error: ") and "\n" not in error
    assert ("training diverged" in error) if lr == "1e30" else ("invalid lr" in error)
    cli(["results", "ls"])
    listed = capsys.readouterr()
    assert "0 runs" in listed.out or "no results store" in listed.err


@pytest.mark.parametrize(
    ("seeds", "message"),
    [("0-5000", "out of range"), ("99999999999", "out of range"), ("-3", "not a seed list")],
)
def test_seed_lists_are_bounded(seeds: str, message: str) -> None:
    with pytest.raises(RadsweepError, match=message):
        parse_seeds(seeds)


@pytest.mark.parametrize("device", ["bogus", "cuda:7", "tpu"])
def test_an_unusable_device_is_a_one_line_error(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str], device: str
) -> None:
    args = [*_data(small_benchmark), "train", "--task", "synth-prognostic", *TINY]
    assert cli([*args, "--device", device]) == 2
    error = capsys.readouterr().err.strip()
    assert "device" in error and "\n" not in error and "Traceback" not in error


def test_json_prints_the_config_key_and_aucs_and_nothing_else(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*_data(small_benchmark), "train", "--task", "synth-diagnostic", *TINY]
    args += ["--method", "distill", "--fraction", "0.5", "--json"]
    assert cli(args) == 0
    printed = json.loads(capsys.readouterr().out)  # stdout is one JSON document
    assert printed["trained"] is True and len(printed["key"]) == 32
    assert printed["config"]["method"] == "distill" and printed["config"]["epochs"] == 2
    assert [seed["seed"] for seed in printed["seeds"]] == [0, 1]
    aucs = [seed["final_auc"] for seed in printed["seeds"]]
    assert printed["final_auc"]["mean"] == pytest.approx(sum(aucs) / 2)
    assert printed["final_auc"]["seeds"] == 2 and printed["final_auc"]["low"] is not None
    assert all(seed["teacher_auc"] is not None for seed in printed["seeds"])
    assert all(seed["image_only_auc"] is not None for seed in printed["seeds"])
    assert cli(args) == 0
    again = json.loads(capsys.readouterr().out)  # a stored run: the same numbers, read back
    assert again["trained"] is False and again["seeds"] == printed["seeds"]


def test_the_batch_size_is_an_option_and_part_of_the_run(
    small_benchmark: SynthBenchmark, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo trains at batch 32; ``train`` reproduces one of its runs only if it can too."""
    args = [*_data(small_benchmark), "train", "--task", "synth-prognostic", *TINY, "--json"]
    keys = {}
    for batch in ("64", "8"):
        assert cli([*args, "--batch-size", batch]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["config"]["batch_size"] == int(batch)
        keys[batch] = printed["key"]
    assert keys["64"] != keys["8"]
