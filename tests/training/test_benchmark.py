"""The benchmark's measurements are consistent: FLOPs counted, times positive, ratios derived."""

import torch

from radsweep.training import HeadKind
from radsweep.training.benchmark import TokenShape, efficiency, vectorization

torch.set_flush_denormal(True)
SHAPE = TokenShape("tiny", 8, 16, HeadKind.ATTENTION)


def test_vectorization_times_both_ways() -> None:
    result = vectorization(SHAPE, seeds=2, train=32, validation=16, rounds=1)
    assert result.vectorized_seconds > 0 and result.sequential_seconds > 0
    assert result.speedup == result.sequential_seconds / result.vectorized_seconds


def test_efficiency_counts_the_step_flops() -> None:
    result = efficiency(SHAPE, seeds=2, batch=8, tries=1)
    # At least the Q/K/V projections: 2 flops x (seeds x batch x tokens) x dim x 3 dim, forward.
    assert result.step_flops >= 2 * (2 * 8 * 8) * 16 * 48
    assert (
        0 < result.fraction_of_gemm == result.step_flops_per_second / result.gemm_flops_per_second
    )
