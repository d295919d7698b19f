"""Benchmarks never halve their seed slice: a shape that does not fit fails in one line."""

from collections.abc import Callable

import pytest
import torch

from radsweep.bench.heads import TINY_SHAPE, WORKLOADS, measure
from radsweep.bench.train import TokenShape, efficiency, vectorization
from radsweep.errors import TrainingError
from radsweep.training import HeadKind, engine
from radsweep.training.config import Precision
from radsweep.training.losses import per_seed_loss

torch.set_flush_denormal(True)
SHAPE = TokenShape("tiny", 8, 16, HeadKind.ATTENTION)


@pytest.fixture
def slices(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Seeds per slice of every training step; a slice of more than one seed runs out of
    memory, as a vectorized step too large for a GPU would (one seed alone fits)."""
    seen: list[int] = []

    def loss(logits: torch.Tensor, *args: torch.Tensor) -> torch.Tensor:
        seen.append(logits.shape[0])
        if logits.shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return per_seed_loss(logits, *args)

    monkeypatch.setattr(engine, "per_seed_loss", loss)
    return seen


@pytest.mark.parametrize(
    ("bench", "named"),
    [
        (
            lambda: vectorization(SHAPE, seeds=(0, 1), batch=8, steps=2, rounds=1, min_seconds=0),
            "tiny, 2 seeds x 8 rows",
        ),
        (lambda: efficiency(SHAPE, seeds=(0, 1), batch=8, tries=1), "tiny, 2 seeds x 8 rows"),
        (
            lambda: measure(
                TINY_SHAPE, Precision.FP32, (0, 1), WORKLOADS["tiny"], torch.device("cpu")
            ),
            "the tiny (16 x 32) head step of 2 seeds x 16 rows in fp32",
        ),
    ],
)
def test_a_benchmark_that_does_not_fit_fails_instead_of_halving(
    slices: list[int], bench: Callable[[], object], named: str
) -> None:
    with pytest.raises(TrainingError) as raised:
        bench()
    line = raised.value.one_line()
    assert f"benchmark: {named} does not fit the memory of cpu in one pass" in line
    assert "--seeds" in line and "\n" not in line
    assert slices == [2]  # the one vectorized slice, never retried at one seed
