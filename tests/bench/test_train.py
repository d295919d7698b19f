"""The benchmark's measurements are consistent: FLOPs counted, times positive, ratios derived."""

from collections.abc import Callable

import pytest
import torch

from radsweep.bench import train as bench_train
from radsweep.bench.train import (
    EfficiencyResult,
    TokenShape,
    VectorizationResult,
    efficiency,
    run_train_bench,
    vectorization,
)
from radsweep.training import HeadKind

torch.set_flush_denormal(True)
SHAPE = TokenShape("tiny", 8, 16, HeadKind.ATTENTION)


def test_vectorization_times_both_ways() -> None:
    result = vectorization(SHAPE, seeds=(0, 1), batch=8, steps=2, rounds=1, min_seconds=0.0)
    assert len(result.rounds) == 1 and result.steps == 2
    assert result.vectorized_seconds > 0 and result.sequential_seconds > 0
    assert result.speedup == result.sequential_seconds / result.vectorized_seconds


def test_vectorization_speedup_is_the_median_round_ratio() -> None:
    result = VectorizationResult(SHAPE, (0, 1), rounds=((1.0, 2.0), (1.0, 0.5), (2.0, 3.0)))
    assert result.speedup == 1.5
    assert (result.vectorized_seconds, result.sequential_seconds) == (1.0, 2.0)


def test_efficiency_counts_the_step_flops() -> None:
    result = efficiency(SHAPE, seeds=(0, 1), batch=8, tries=1)
    assert len(result.tries) == 1
    # At least the Q/K/V projections: 2 flops x (seeds x batch x tokens) x dim x 3 dim, forward.
    assert result.step_flops >= 2 * (2 * 8 * 8) * 16 * 48
    assert (
        0 < result.fraction_of_gemm == result.step_flops_per_second / result.gemm_flops_per_second
    )


def test_efficiency_pairs_each_step_with_its_own_gemm_rate() -> None:
    # Per-try fractions 1.0, 0.125, 1.0; the medians of each side alone would give 0.5.
    result = EfficiencyResult(step_flops=100.0, tries=((1.0, 100.0), (2.0, 400.0), (4.0, 25.0)))
    assert result.fraction_of_gemm == 1.0


def test_each_ratio_is_reported_as_soon_as_it_is_measured() -> None:
    lines: list[str] = []
    result = run_train_bench(seeds=(0, 1), tiny=True, measured=lines.append)
    assert len(lines) == len(result.vectorized) + 1
    assert lines == result.lines()[:-1]  # the same lines, then the ratios
    assert lines[0].endswith(f"{result.vectorized[0].speedup:.2f}x")


def test_a_fast_head_is_timed_over_more_steps_than_its_epoch_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A side lasts at least ``min_seconds``: with steps of 0.01 s, 0.5 s takes 50 of them
    (the epoch planned holds 2; its batches are taken again)."""
    calls: list[int] = []

    def fixed(work: Callable[[], object]) -> float:
        work()
        calls.append(1)
        return 0.01

    monkeypatch.setattr(bench_train, "_seconds", fixed)
    result = vectorization(SHAPE, seeds=(0, 1), batch=8, steps=2, rounds=1, min_seconds=0.5)
    assert result.steps == 50 and len(calls) == 3  # the measured step, then the two sides
