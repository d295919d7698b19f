"""Paired findings: per-seed differences, their intervals and the one-line verdicts."""

import pandas as pd
import pytest

from radsweep.results.findings import (
    COMPARISONS,
    RESOLUTION,
    paired_findings,
    pool_draws,
    replicated_findings,
)

SEEDS = (0, 1, 2, 3, 4)
IMAGE = (0.60, 0.66, 0.58, 0.63, 0.61)  # seeds differ far more than the arms within a seed


def _rows(method: str, stage: str, shift: tuple[float, ...], seeds=SEEDS) -> list[dict]:
    return [
        {
            "backbone": "c2l",
            "task": "prog",
            "fraction": 0.1,
            "method": method,
            "stage": stage,
            "seed": seed,
            "final_auc": IMAGE[seed] + shift[seed],
        }
        for seed in seeds
    ]


def _metrics(distill: tuple[float, ...], self_distill: tuple[float, ...]) -> pd.DataFrame:
    rows = (
        _rows("image", "model", (0.0,) * 5)
        + _rows("distill", "model", distill)
        + _rows("distill", "teacher", (0.2,) * 5)
        + _rows("self-distill", "model", self_distill)
    )
    return pd.DataFrame(rows)


def test_the_control_separates_the_report_from_soft_targets() -> None:
    helped = _metrics((0.03, 0.04, 0.03, 0.035, 0.04), (0.0, 0.01, -0.01, 0.0, 0.005))
    [finding] = paired_findings(helped)
    assert finding.control_gain.mean == pytest.approx(0.034)
    assert finding.control_gain.low > 0 and finding.distill_gain.low > 0
    assert finding.verdict.startswith("the report helped")
    soft = _metrics((0.03, 0.04, 0.03, 0.035, 0.04), (0.03, 0.04, 0.035, 0.03, 0.04))
    [finding] = paired_findings(soft)
    assert finding.verdict.startswith("distillation helps, as much as self-distillation")


def test_gains_carry_their_per_seed_differences() -> None:
    [finding] = paired_findings(_metrics((0.01, 0.02, 0.03, 0.04, 0.05), (0.0,) * 5))
    labels = [gain.label for gain in finding.gains]
    assert labels == [label for _, _, label in COMPARISONS]
    control = finding.gains[2]
    assert control.seeds == SEEDS
    assert control.deltas == pytest.approx((0.01, 0.02, 0.03, 0.04, 0.05))
    assert control.interval == finding.control_gain


def test_only_seeds_both_arms_ran_are_paired() -> None:
    metrics = _metrics((0.02,) * 5, (0.0,) * 5)
    metrics = metrics[~((metrics["method"] == "self-distill") & (metrics["seed"] == 4))]
    [finding] = paired_findings(metrics)
    assert finding.control_gain.n == 4 and finding.gains[2].seeds == (0, 1, 2, 3)
    assert finding.distill_gain.n == 5


def test_a_wide_control_is_not_resolved_and_says_what_it_could_detect() -> None:
    wide = _metrics((0.05, -0.04, 0.06, -0.03, 0.01), (0.0,) * 5)
    [finding] = paired_findings(wide)
    control = finding.gains[2]
    assert finding.control_gain.low < 0 < finding.control_gain.high
    assert control.resolvable == pytest.approx(finding.control_gain.half_width)
    assert control.resolvable > RESOLUTION
    assert (
        finding.verdict == f"not resolved (could detect >= {control.resolvable:.3f} with 5 seeds)"
    )
    narrow = _metrics((0.001, -0.002, 0.002, 0.0, -0.001), (0.0,) * 5)
    [finding] = paired_findings(narrow)
    assert finding.verdict.startswith("no paired gain from the report (could detect >= 0.00")


def test_the_report_helped_only_where_every_draw_replicates() -> None:
    helped = _metrics((0.03, 0.04, 0.03, 0.035, 0.04), (0.0, 0.01, -0.01, 0.0, 0.005))
    flat = _metrics((0.03, 0.04, 0.03, 0.035, 0.04), (0.03, 0.035, 0.03, 0.04, 0.03))
    draws = [paired_findings(helped) for _ in range(3)]
    [pooled] = pool_draws(draws)
    assert pooled.control_gain.n == 15 and pooled.replicated == (3, 3)
    assert pooled.verdict.endswith("replicated on 3 of 3 draws")
    [mixed] = pool_draws([*draws, paired_findings(flat)])
    assert mixed.control_gain.low > 0 and mixed.replicated == (3, 4)
    assert mixed.verdict == "not replicated: the control excluded 0 on 3 of 4 draws"
    assert len({seed for seed, _ in mixed.deltas["distill - self-distill"]}) == 20


def test_draws_of_a_task_are_pooled_as_replicates() -> None:
    helped = _metrics((0.03, 0.04, 0.03, 0.035, 0.04), (0.0, 0.01, -0.01, 0.0, 0.005))
    draws = [helped.assign(task=task) for task in ("prog", "prog.draw1", "prog.draw2")]
    other = helped.assign(task="diag")
    found = paired_findings(pd.concat([*draws, other]))
    pooled = replicated_findings(found)
    assert [(f.task, f.replicated) for f in pooled] == [("diag", (0, 0)), ("prog", (3, 3))]
    assert pooled[1].control_gain.n == 15
