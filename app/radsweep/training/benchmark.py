"""Training throughput, measured as ratios within one process (absolute times drift on shared
machines; ratios hold).

* vectorization: S seeds in one ``fit`` vs the same S seeds fitted one after another, at the
  token shapes of the study's backbones;
* efficiency: achieved FLOP/s of one attention-head training step (FLOPs counted by PyTorch's
  ``FlopCounterMode``) over the FLOP/s of a plain square GEMM, best of several interleaved tries.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from radsweep.training.config import HeadKind, TrainConfig
from radsweep.training.engine import DeviceFeatures, StageTrainer, fit
from radsweep.training.inputs import SeedSplit, TrainingData


@dataclass(frozen=True)
class TokenShape:
    """A backbone's token layout and the head trained on it."""

    name: str
    tokens: int
    dim: int
    head: HeadKind


STUDY_SHAPES = (
    TokenShape("ResNet-18 tokens (49 x 512), attention", 49, 512, HeadKind.ATTENTION),
    TokenShape("ViT-B tokens (197 x 768), attention", 197, 768, HeadKind.ATTENTION),
    TokenShape("ViT-B tokens (197 x 768), Mean-LP", 197, 768, HeadKind.MEAN_LP),
)


@dataclass(frozen=True)
class VectorizationResult:
    shape: TokenShape
    seeds: int
    vectorized_seconds: float
    sequential_seconds: float

    @property
    def speedup(self) -> float:
        return self.sequential_seconds / self.vectorized_seconds


@dataclass(frozen=True)
class EfficiencyResult:
    step_flops: float
    step_seconds: float
    gemm_flops_per_second: float

    @property
    def step_flops_per_second(self) -> float:
        return self.step_flops / self.step_seconds

    @property
    def fraction_of_gemm(self) -> float:
        return self.step_flops_per_second / self.gemm_flops_per_second


def _random_features(shape: TokenShape, samples: int) -> TrainingData:
    g = torch.Generator().manual_seed(0)
    image = torch.randn(1, samples, shape.tokens, shape.dim, generator=g).half()
    return TrainingData(labels=torch.arange(samples) % 2, classes=2, image=image)


def _splits(seeds: int, train: int, validation: int) -> list[SeedSplit]:
    rows = np.arange(train + validation)
    return [SeedSplit(seed, rows[:train], rows[train:]) for seed in range(seeds)]


def _seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def vectorization(
    shape: TokenShape,
    seeds: int = 5,
    train: int = 64,
    validation: int = 32,
    epochs: int = 1,
    rounds: int = 3,
) -> VectorizationResult:
    """Wall time of one vectorized fit of ``seeds`` seeds vs ``seeds`` single-seed fits.

    The two alternate for ``rounds`` rounds and the best time of each is kept, so a burst of
    load from elsewhere on a shared machine does not decide the ratio.
    """
    data = _random_features(shape, train + validation)
    splits = _splits(seeds, train, validation)
    config = TrainConfig(head=shape.head, epochs=epochs)
    fit(data, splits, config)  # warm-up: kernels, and the allocator's first large blocks
    fit(data, splits[:1], config)
    vectorized, sequential = [], []
    for _ in range(rounds):
        vectorized.append(_seconds(lambda: fit(data, splits, config)))
        sequential.append(_seconds(lambda: [fit(data, [split], config) for split in splits]))
    return VectorizationResult(shape, seeds, min(vectorized), min(sequential))


def _gemm_seconds(size: int) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    return _seconds(lambda: torch.mm(a, b))


def efficiency(
    shape: TokenShape = STUDY_SHAPES[1], seeds: int = 5, batch: int = 64, tries: int = 2
) -> EfficiencyResult:
    """FLOP/s of one attention-head training step as a fraction of square-GEMM FLOP/s."""
    data = _random_features(shape, batch)
    config = TrainConfig(head=HeadKind.ATTENTION, epochs=1, batch_size=batch)
    features = DeviceFeatures.load(data, config, torch.device("cpu"), text=False)
    splits = _splits(seeds, batch, 0)
    trainer = StageTrainer(features, 2, splits, config, "benchmark")
    plan = trainer.plan_epoch()
    with FlopCounterMode(display=False) as counter:
        trainer.step(plan, 0)
    gemm_size = 2048
    _gemm_seconds(gemm_size)
    step_times, gemm_times = [], []
    for _ in range(tries):  # interleaved, so both see the same machine load
        step_times.append(_seconds(lambda: trainer.step(plan, 0)))
        gemm_times.append(_gemm_seconds(gemm_size))
    return EfficiencyResult(
        step_flops=float(counter.get_total_flops()),
        step_seconds=min(step_times),
        gemm_flops_per_second=2 * gemm_size**3 / min(gemm_times),
    )
