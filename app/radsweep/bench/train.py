"""``radsweep bench train``: training throughput, measured as ratios within one process
(absolute times drift on shared machines; ratios hold).

* vectorization: optimisation steps of S seeds in one stacked trainer vs the same steps of S
  single-seed trainers, at the token shapes of the study's backbones (steps only: throughput);
* efficiency: achieved FLOP/s of one attention-head training step (FLOPs counted by PyTorch's
  ``FlopCounterMode``) over the FLOP/s of plain square GEMMs timed right after it.

The machines these run on change speed by 10-30 % within seconds, so each side of every ratio is
timed next to the other and the ratio is the median over repeats. Every trainer holds all its
seeds in one slice: a shape that does not fit fails in one line (``bench.fits``) rather than
being timed in halves. On a loaded 2-core CPU each
ratio is printed within minutes (the ViT-B attention pair, the slowest, takes about 35 s a side).
"""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from radsweep.bench.fits import fits, one_slice
from radsweep.training.allocator import keep_freed_memory
from radsweep.training.config import HeadKind, TrainConfig
from radsweep.training.engine import DeviceFeatures, StageTrainer
from radsweep.training.inputs import SeedSplit, TrainingData


@dataclass(frozen=True)
class TokenShape:
    """A backbone's token layout and the head trained on it."""

    name: str
    tokens: int
    dim: int
    head: str


DEFAULT_SEEDS = (0, 1, 2, 3, 4)
STUDY_SHAPES = (
    TokenShape("ResNet-18 tokens (49 x 512), attention", 49, 512, HeadKind.ATTENTION),
    TokenShape("ViT-B tokens (197 x 768), attention", 197, 768, HeadKind.ATTENTION),
    TokenShape("ViT-B tokens (197 x 768), Mean-LP", 197, 768, HeadKind.MEAN_LP),
)
TINY_SHAPES = (
    TokenShape("tiny tokens (16 x 32), attention", 16, 32, HeadKind.ATTENTION),
    TokenShape("tiny tokens (16 x 32), Mean-LP", 16, 32, HeadKind.MEAN_LP),
)


@dataclass(frozen=True)
class VectorizationResult:
    """Paired timings: one (vectorized, sequential) pair per round, timed back to back."""

    shape: TokenShape
    seeds: tuple[int, ...]
    rounds: tuple[tuple[float, float], ...]
    steps: int = 4  # timed per side

    @property
    def vectorized_seconds(self) -> float:
        return float(np.median([vectorized for vectorized, _ in self.rounds]))

    @property
    def sequential_seconds(self) -> float:
        return float(np.median([sequential for _, sequential in self.rounds]))

    @property
    def speedup(self) -> float:
        """Median over rounds of sequential / vectorized time within the round."""
        return float(np.median([sequential / vectorized for vectorized, sequential in self.rounds]))


@dataclass(frozen=True)
class EfficiencyResult:
    """One (step seconds, GEMM FLOP/s) pair per try; the GEMMs ran right after their step."""

    step_flops: float
    tries: tuple[tuple[float, float], ...]

    @property
    def step_seconds(self) -> float:
        return float(np.median([seconds for seconds, _ in self.tries]))

    @property
    def step_flops_per_second(self) -> float:
        return self.step_flops / self.step_seconds

    @property
    def gemm_flops_per_second(self) -> float:
        return float(np.median([gemm for _, gemm in self.tries]))

    @property
    def fraction_of_gemm(self) -> float:
        """Median over tries of the step's FLOP/s over the GEMMs' FLOP/s measured beside it."""
        return float(np.median([self.step_flops / seconds / gemm for seconds, gemm in self.tries]))


def _random_features(shape: TokenShape, samples: int) -> TrainingData:
    g = torch.Generator().manual_seed(0)
    image = torch.randn(1, samples, shape.tokens, shape.dim, generator=g).half()
    return TrainingData(labels=torch.arange(samples) % 2, classes=2, image=image)


def _splits(seeds: Sequence[int], train: int, validation: int) -> list[SeedSplit]:
    rows = np.arange(train + validation)
    return [SeedSplit(seed, rows[:train], rows[train:]) for seed in seeds]


def _seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


CPU = torch.device("cpu")
STEPS = 4
"""Optimisation steps timed per side of a vectorization round, at least: throughput, not set-up."""
MIN_SIDE_SECONDS = 1.0
"""More steps for a fast head (Mean-LP: tens of ms a step), so that a side outlasts the load's
jitter on a shared machine."""


def _trainer(
    features: DeviceFeatures, splits: Sequence[SeedSplit], config: TrainConfig
) -> StageTrainer:
    """A benchmark's trainer: every seed of ``splits`` in one slice that never halves."""
    return StageTrainer(features, 2, splits, config, "benchmark", chunks=one_slice(len(splits)))


def _named(shape: TokenShape, seeds: Sequence[int], batch: int) -> str:
    """A benchmark's work as its out-of-memory line names it (``bench.fits``)."""
    return f"{shape.name}, {len(seeds)} seeds x {batch} rows"


def _trainer_steps(trainer: StageTrainer, steps: int) -> Callable[[], None]:
    plan = trainer.plan_epoch()  # planned once: only the steps themselves are timed
    planned = plan.rows.shape[0]

    def run() -> None:
        for index in range(steps):
            trainer.step(plan, index % planned)  # the epoch's batches again, if more steps
        if trainer.device.type == "cuda":  # the steps are queued: time them finished
            torch.cuda.synchronize(trainer.device)

    return run


def vectorization(
    shape: TokenShape,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    batch: int = 64,
    steps: int = STEPS,
    rounds: int = 3,
    device: torch.device = CPU,
    min_seconds: float = MIN_SIDE_SECONDS,
) -> VectorizationResult:
    """Time of ``steps`` Adam steps (more where fewer would take under ``min_seconds``) of
    every seed in one stacked trainer vs one trainer per seed.

    Trainers, features on the device and epoch plans are built, and one step of each trainer
    run, before any timing, so the ratio is one of training throughput (what a long fit spends
    its time on), not of set-up. Each round times the two sides back to back, in alternating
    order (vectorized first, then sequential first), so a machine whose speed drifts slows both
    alike; the speedup is the median of the rounds' ratios.
    """
    with fits(_named(shape, seeds, batch), device):
        return _vectorization(shape, seeds, batch, steps, rounds, device, min_seconds)


def _vectorization(
    shape: TokenShape,
    seeds: Sequence[int],
    batch: int,
    steps: int,
    rounds: int,
    device: torch.device,
    min_seconds: float,
) -> VectorizationResult:
    data = _random_features(shape, batch * steps)
    config = TrainConfig(head=shape.head, epochs=1, batch_size=batch)
    features = DeviceFeatures.load(data, config, device, text=False)
    if device.type == "cpu":
        keep_freed_memory()  # as fit does on the CPU
    splits = _splits(seeds, batch * steps, 0)
    vectorized = _trainer(features, splits, config)
    separate = [_trainer(features, [split], config) for split in splits]
    for trainer in [vectorized, *separate]:  # warm-up: kernels, the allocator's large blocks
        _trainer_steps(trainer, 1)()
    step = _seconds(_trainer_steps(vectorized, 1))
    steps = max(steps, math.ceil(min_seconds / max(step, 1e-6)))
    stacked = _trainer_steps(vectorized, steps)
    single = [_trainer_steps(trainer, steps) for trainer in separate]

    def together() -> float:
        return _seconds(stacked)

    def one_at_a_time() -> float:
        return _seconds(lambda: [run() for run in single])

    paired = []
    for round_ in range(rounds):
        if round_ % 2 == 0:
            paired.append((together(), one_at_a_time()))
        else:
            sequential = one_at_a_time()
            paired.append((together(), sequential))
    return VectorizationResult(shape, tuple(seeds), tuple(paired), steps)


_GEMM_SIZE = 2048


def _gemm_flops_per_second(seconds: float) -> float:
    """FLOP/s of back-to-back square GEMMs over about ``seconds`` (at least one GEMM)."""
    a, b = torch.randn(_GEMM_SIZE, _GEMM_SIZE), torch.randn(_GEMM_SIZE, _GEMM_SIZE)
    single = _seconds(lambda: torch.mm(a, b))
    count = max(1, round(seconds / single))
    elapsed = _seconds(lambda: [torch.mm(a, b) for _ in range(count)])
    return 2 * _GEMM_SIZE**3 * count / elapsed


def efficiency(
    shape: TokenShape = STUDY_SHAPES[1],
    seeds: Sequence[int] = DEFAULT_SEEDS,
    batch: int = 64,
    tries: int = 3,
) -> EfficiencyResult:
    """FLOP/s of one attention-head training step as a fraction of square-GEMM FLOP/s.

    Each try times one step, then GEMMs for as long as the step took, so both sides of each
    ratio see the same stretch of machine load; the result is the median over tries.
    """
    data = _random_features(shape, batch)
    config = TrainConfig(head=HeadKind.ATTENTION, epochs=1, batch_size=batch)
    features = DeviceFeatures.load(data, config, torch.device("cpu"), text=False)
    keep_freed_memory()  # as fit does on the CPU
    splits = _splits(seeds, batch, 0)
    trainer = _trainer(features, splits, config)
    plan = trainer.plan_epoch()
    measured = []
    with fits(_named(shape, seeds, batch), CPU):
        with FlopCounterMode(display=False) as counter:
            trainer.step(plan, 0)
        for _ in range(tries):
            step_seconds = _seconds(lambda: trainer.step(plan, 0))
            measured.append((step_seconds, _gemm_flops_per_second(step_seconds)))
    return EfficiencyResult(step_flops=float(counter.get_total_flops()), tries=tuple(measured))


def _vectorized_line(one: VectorizationResult) -> str:
    return (
        f"{one.shape.name:42s} {one.steps} steps of {len(one.seeds)} seeds together "
        f"{one.vectorized_seconds:7.2f} s, one at a time {one.sequential_seconds:7.2f} s: "
        f"{one.speedup:.2f}x"
    )


def _step_line(step: EfficiencyResult, seeds: int) -> str:
    return (
        f"attention step ({seeds} seeds): {step.step_flops / 1e9:.1f} GFLOP in "
        f"{step.step_seconds:.2f} s = {step.step_flops_per_second / 1e9:.1f} GFLOP/s; "
        f"GEMM {step.gemm_flops_per_second / 1e9:.1f} GFLOP/s: {step.fraction_of_gemm:.3f}"
    )


@dataclass(frozen=True)
class TrainBench:
    """Both measurements of ``radsweep bench train``, ratios last when printed."""

    seeds: tuple[int, ...]
    vectorized: tuple[VectorizationResult, ...]
    step: EfficiencyResult

    def lines(self) -> list[str]:
        lines = [_vectorized_line(one) for one in self.vectorized]
        lines.append(_step_line(self.step, len(self.seeds)))
        speedups = ", ".join(f"{one.speedup:.2f}" for one in self.vectorized)
        lines.append(
            f"ratios: vectorized/sequential {speedups}; "
            f"attention step/GEMM FLOP/s {self.step.fraction_of_gemm:.3f}"
        )
        return lines

    def summary(self) -> dict[str, object]:
        return {
            "seeds": list(self.seeds),
            "shapes": [
                {
                    "shape": one.shape.name,
                    "steps": one.steps,
                    "vectorized_seconds": one.vectorized_seconds,
                    "sequential_seconds": one.sequential_seconds,
                }
                for one in self.vectorized
            ],
            "attention_step": {
                "flops": self.step.step_flops,
                "seconds": self.step.step_seconds,
                "flops_per_second": self.step.step_flops_per_second,
                "gemm_flops_per_second": self.step.gemm_flops_per_second,
            },
            "ratios": {
                "vectorized_over_sequential": {
                    one.shape.name: one.speedup for one in self.vectorized
                },
                "attention_step_over_gemm": self.step.fraction_of_gemm,
            },
        }


def run_train_bench(
    seeds: Sequence[int] = DEFAULT_SEEDS,
    tiny: bool = False,
    measured: Callable[[str], None] | None = None,
) -> TrainBench:
    """Vectorized vs sequential steps at each shape, then one attention step against GEMMs.

    ``measured`` gets each ratio's line as soon as it is measured, so a loaded machine shows
    results long before the whole benchmark ends."""
    torch.set_flush_denormal(True)
    shapes = TINY_SHAPES if tiny else STUDY_SHAPES
    say = measured or (lambda line: None)
    vectorized = []
    repeats = 1 if tiny else 3  # tiny: a smoke run of the code path, not a measure
    for shape in shapes:
        least = 0.0 if tiny else MIN_SIDE_SECONDS
        vectorized.append(vectorization(shape, seeds=seeds, rounds=repeats, min_seconds=least))
        say(_vectorized_line(vectorized[-1]))
    step = efficiency(shapes[0] if tiny else STUDY_SHAPES[1], seeds=seeds, tries=repeats)
    say(_step_line(step, len(seeds)))
    return TrainBench(tuple(seeds), tuple(vectorized), step)
