"""Per backbone shape and precision: one attention-head training step of every seed and one
validation pass, timed on the device after warm-up, with the step's peak memory and its FLOPs.

The step is the engine's own (``StageTrainer.step``, ``predict``) under the engine's precision
handling, so what is timed is what a run executes. On CUDA the times come from CUDA events
recorded around the timed repeats (the GPU's time, not the host's queueing); on the CPU from the
wall clock, which is the same thing there.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from radsweep.bench.fits import fits, one_slice
from radsweep.encoders.pretrained import entries
from radsweep.training.config import HeadKind, Precision, TrainConfig
from radsweep.training.engine import DeviceFeatures, StageTrainer, predict
from radsweep.training.inputs import SeedSplit, TrainingData
from radsweep.training.precision import float32_matmuls


@dataclass(frozen=True)
class HeadShape:
    """A token shape (tokens x width) and the backbones whose features have it."""

    backbones: tuple[str, ...]
    tokens: int
    width: int

    @property
    def name(self) -> str:
        return f"{'/'.join(self.backbones)} ({self.tokens} x {self.width})"


TINY_SHAPE = HeadShape(("tiny",), 16, 32)


def head_shapes() -> list[HeadShape]:
    """Every image backbone's local token grid and width in the pretrained table, one entry per
    distinct shape (backbones that share one are measured once)."""
    shapes: dict[tuple[int, int], list[str]] = {}
    for entry in entries("image"):
        if entry.grid is not None:
            shapes.setdefault((entry.grid**2, entry.dim), []).append(entry.name)
    return [HeadShape(tuple(names), tokens, width) for (tokens, width), names in shapes.items()]


@dataclass(frozen=True)
class Workload:
    """How much each measure runs: rows per seed and step, timed repeats, validation rows."""

    batch: int
    steps: int
    validation_rows: int


WORKLOADS = {
    "tiny": Workload(batch=16, steps=2, validation_rows=32),
    "cpu": Workload(batch=64, steps=2, validation_rows=128),
    "cuda": Workload(batch=64, steps=10, validation_rows=1024),
}


@dataclass(frozen=True)
class HeadRate:
    """One shape at one precision. ``peak_memory_bytes``: the training step's peak allocation
    above what was resident before it (the features), None on the CPU."""

    shape: HeadShape
    precision: Precision
    seeds: int
    batch: int
    train_step_s: float
    validation_s_per_row: float  # one row scored by every seed's model
    peak_memory_bytes: int | None
    step_flops: float

    @property
    def tflops(self) -> float:
        return self.step_flops / self.train_step_s / 1e12

    def line(self) -> str:
        memory = (
            "n/a" if self.peak_memory_bytes is None else f"{self.peak_memory_bytes / 2**30:.2f} GiB"
        )
        return (
            f"head    {self.shape.name:<40} {self.precision:<4} {self.seeds} seeds x "
            f"{self.batch}: step {self.train_step_s * 1e3:9.2f} ms, validation "
            f"{self.validation_s_per_row * 1e6:8.2f} us/row, peak {memory}, "
            f"{self.tflops:.2f} TFLOP/s"
        )


def precisions(device: torch.device) -> tuple[Precision, ...]:
    """What differs on ``device``: TF32 is a CUDA mode (fp32's numbers and speed elsewhere)."""
    if device.type == "cuda":
        return (Precision.FP32, Precision.TF32, Precision.BF16)
    return (Precision.FP32, Precision.BF16)


def measure(
    shape: HeadShape,
    precision: Precision,
    seeds: Sequence[int],
    work: Workload,
    device: torch.device,
) -> HeadRate:
    """Time ``work.steps`` training steps and validation passes of the attention head, every
    seed in one slice (``bench.fits``: a shape that does not fit fails in one line)."""
    what = f"the {shape.name} head step of {len(seeds)} seeds x {work.batch} rows in {precision}"
    with fits(what, device):
        trainer, rows = _trainer(shape, precision, seeds, work, device)
        plan = trainer.plan_epoch()
        with float32_matmuls(precision, device):
            with FlopCounterMode(display=False) as counter:  # also the first warm-up step
                trainer.step(plan, 0)
            resident = _reset_peak(device)
            step_s = _device_seconds(lambda: trainer.step(plan, 0), device, work.steps)
            peak = None if resident is None else torch.cuda.max_memory_allocated(device) - resident

            def validate() -> None:
                predict(
                    trainer.model,
                    trainer.features,
                    rows,
                    precision=trainer.precision,
                    chunks=trainer.chunks,
                )

            validation_s = _device_seconds(validate, device, max(1, work.steps // 2))
    return HeadRate(
        shape=shape,
        precision=precision,
        seeds=len(seeds),
        batch=work.batch,
        train_step_s=step_s,
        validation_s_per_row=validation_s / rows.shape[1],
        peak_memory_bytes=peak,
        step_flops=float(counter.get_total_flops()),
    )


def _trainer(
    shape: HeadShape,
    precision: Precision,
    seeds: Sequence[int],
    work: Workload,
    device: torch.device,
) -> tuple[StageTrainer, torch.Tensor]:
    """A trainer of every seed on random half-precision tokens (a cache's dtype), and each
    seed's validation rows ``[S, M]`` on the device."""
    samples = work.batch + work.validation_rows
    generator = torch.Generator().manual_seed(0)
    image = torch.randn(1, samples, shape.tokens, shape.width, generator=generator).half()
    data = TrainingData(labels=torch.arange(samples) % 2, classes=2, image=image)
    config = TrainConfig(
        head=HeadKind.ATTENTION, epochs=1, batch_size=work.batch, precision=precision
    )
    features = DeviceFeatures.load(data, config, device, text=False)
    rows = np.arange(samples)
    splits = [SeedSplit(seed, rows[: work.batch], rows[work.batch :]) for seed in seeds]
    trainer = StageTrainer(features, 2, splits, config, "benchmark", chunks=one_slice(len(seeds)))
    validation = torch.from_numpy(rows[work.batch :]).to(device).expand(len(seeds), -1)
    return trainer, validation


def _reset_peak(device: torch.device) -> int | None:
    """Start a peak-memory measure; what is allocated now (None on the CPU: not measured)."""
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    return torch.cuda.memory_allocated(device)


def _device_seconds(work: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Mean seconds of ``work`` over ``repeats`` runs after one warm-up: CUDA events around the
    repeats on a GPU (synchronized at the end), the wall clock on the CPU."""
    work()
    if device.type != "cuda":
        start = time.perf_counter()
        for _ in range(repeats):
            work()
        return (time.perf_counter() - start) / repeats
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize(device)
    begin.record()
    for _ in range(repeats):
        work()
    end.record()
    end.synchronize()
    return begin.elapsed_time(end) / 1e3 / repeats
