"""The demo's reading of its runs: findings paired by seed, the report fingerprint."""

from pathlib import Path

import pandas as pd

from radsweep.demo import findings, report_is_current, write_fingerprint
from radsweep.results.frames import ResultFrames

SEEDS = (0, 1, 2, 3, 4)


def _rows(task: str, fraction: float, method: str, stage: str, aucs: list[float]) -> list[dict]:
    return [
        {
            "backbone": "pixel-patches",
            "task": task,
            "fraction": fraction,
            "method": method,
            "stage": stage,
            "seed": seed,
            "final_auc": auc,
            "run_key": f"{task}-{method}-{fraction}",
        }
        for seed, auc in zip(SEEDS, aucs, strict=True)
    ]


def _frames(gain: float) -> ResultFrames:
    image = [0.60, 0.62, 0.58, 0.61, 0.59]
    rows = (
        _rows("prog", 0.1, "image", "model", image)
        + _rows(
            "prog", 0.1, "distill", "model", [auc + gain + 0.001 * i for i, auc in enumerate(image)]
        )
        + _rows("prog", 0.1, "distill", "teacher", [0.7] * 5)
        + _rows("prog", 0.1, "self-distill", "model", image)
        + _rows("prog", 0.1, "self-distill", "teacher", [0.6] * 5)
    )
    empty = pd.DataFrame()
    return ResultFrames(empty, pd.DataFrame(rows), empty, "test")


def test_gains_are_paired_by_seed_and_judged_by_their_interval() -> None:
    [finding] = findings(_frames(gain=0.03))
    assert (finding.task, finding.fraction) == ("prog", 0.1)
    assert abs(finding.image - 0.60) < 1e-9 and finding.teacher == 0.7
    # Seeds differ by up to 0.04 but the paired differences barely vary: a tight interval.
    assert abs(finding.distill_gain.mean - 0.032) < 1e-9 and finding.distill_gain.low > 0.03
    assert finding.self_distill_gain.mean == 0.0
    assert finding.control_gain.low > 0.03
    assert finding.verdict.startswith("the report helped")


def test_no_gain_is_reported_as_none() -> None:
    [finding] = findings(_frames(gain=-0.002))
    # The paired differences barely vary: a narrow interval through zero resolves "no gain".
    assert finding.verdict.startswith("no paired gain from the report (could detect >= 0.00")


def test_a_point_missing_an_arm_is_left_out() -> None:
    frames = _frames(gain=0.03)
    partial = frames.seed_metrics[frames.seed_metrics["method"] != "self-distill"]
    assert findings(ResultFrames(frames.runs, partial, frames.curves, "test")) == []


def test_the_report_is_current_only_for_the_same_runs(tmp_path: Path) -> None:
    assert not report_is_current(tmp_path, ["a", "b"])
    (tmp_path / "report.html").write_text("<html></html>")
    write_fingerprint(tmp_path, ["b", "a"])
    assert report_is_current(tmp_path, ["a", "b"])
    assert not report_is_current(tmp_path, ["a", "b", "c"])


def test_draws_of_the_benchmark_are_pooled_into_one_finding() -> None:
    frames = _frames(gain=0.03)
    again = frames.seed_metrics.assign(task="prog.draw1")
    pooled = ResultFrames(frames.runs, pd.concat([frames.seed_metrics, again]), frames.curves, "t")
    [finding] = findings(pooled)
    assert finding.task == "prog" and finding.replicated == (2, 2)
    assert finding.verdict.endswith("replicated on 2 of 2 draws")
