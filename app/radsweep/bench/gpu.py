"""``radsweep bench gpu``: one run that measures what the study's cost depends on, on this device.

* extraction: images/s of every backbone's forward pass at its paper resolution, fp32 against
  mixed precision (bf16 where the device has it, else fp16), and the peak GPU memory;
* head training: all seeds in one vectorized fit against the seeds one after another, at the
  paper's token shapes (attention head and Mean-LP on ViT-B tokens);
* the attention head at every backbone's token shape in fp32, TF32 (CUDA only) and bf16: one
  training step, one validation pass and the step's peak memory, saved to
  ``RADSWEEP_HOME/bench/gpu-rates.json`` (``sweeps.plan.measured``) for the cost plan;
* the whole study's projection: the sustained FLOP/s measured here replace the nominal ones of
  ``sweep plan``, and are saved so that ``radsweep sweep plan --device measured`` uses them.

Weights are randomly initialised (nothing is downloaded; speed does not depend on the values).
``tiny`` swaps in the tiny encoders and token shapes, so CI runs the whole path on a CPU.
"""

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from radsweep import __version__
from radsweep.atomic import write_text_atomic
from radsweep.bench import heads as shapes_bench
from radsweep.bench import train as benchmark
from radsweep.bench.heads import WORKLOADS, HeadRate, head_shapes, precisions
from radsweep.devices import resolve_device
from radsweep.encoders import build_image_encoder
from radsweep.encoders.base import ImageEncoder
from radsweep.encoders.pretrained import entries
from radsweep.features.extract import fit_batch_size, resolve_precision
from radsweep.features.keys import Precision
from radsweep.sweeps.plan import (
    MEASURED_FILE,
    PAPER_T4_HOURS,
    Device,
    Plan,
    fit_flops,
    load_plan,
)
from radsweep.sweeps.plan.measured import (
    MeasuredRates,
    MeasuredShape,
    device_kind,
    rates_path,
    save_measured,
)
from radsweep.training.registry import head_spec

GPU_BATCH_CAP = 64  # enough to fill a GPU; larger batches only lengthen the run
CPU_BATCH = 2
SECONDS_PER_MEASURE = {"tiny": 0.3, "full": 2.0}  # per backbone and precision, after a warm-up
PAPER_SHAPES = (benchmark.STUDY_SHAPES[1], benchmark.STUDY_SHAPES[2])  # ViT-B: attention, Mean-LP
# (training samples, validation samples, epochs, rounds): a GPU needs enough work per fit to be
# measured; a CPU needs little enough to finish in minutes
HEAD_SIZES = {"tiny": (32, 2, 2), "cpu": (64, 4, 1), "cuda": (1024, 8, 2)}
"""(batch, training steps timed, rounds) of the heads' vectorized vs sequential steps."""


@dataclass(frozen=True)
class ExtractionRate:
    backbone: str
    input_size: int
    precision: Precision
    batch: int
    images_per_second: float
    peak_bytes: int  # GPU memory at the peak of the forward pass (0 on the CPU)
    flops_per_image: float


@dataclass(frozen=True)
class HeadSpeedup:
    shape: str
    seeds: int
    vectorized_seconds: float
    sequential_seconds: float
    flops: float  # of the vectorized side's training steps

    @property
    def ratio(self) -> float:
        return self.sequential_seconds / self.vectorized_seconds


@dataclass(frozen=True)
class DeviceBench:
    device: Device
    extraction: tuple[ExtractionRate, ...]
    heads: tuple[HeadSpeedup, ...]
    study: Plan
    saved: Path | None
    head_rates: tuple[HeadRate, ...] = ()
    rates_saved: Path | None = None

    def study_hours(self) -> float:
        return sum(self.study.hours(self.device))

    def mixed_over_fp32(self, backbone: str) -> float:
        rates = {
            r.precision: r.images_per_second for r in self.extraction if r.backbone == backbone
        }
        return max(rates[p] for p in rates if p != "fp32") / rates["fp32"]

    @property
    def paper_ratio(self) -> float:
        """How many times fewer device-hours than the paper's own estimate the projection needs."""
        return PAPER_T4_HOURS / max(self.study_hours(), 1e-9)

    def precision_ratios(self, precision: str) -> dict[str, float]:
        """fp32 step time over ``precision``'s, per shape (the speed-up of leaving fp32)."""
        fp32 = {r.shape.name: r.train_step_s for r in self.head_rates if r.precision == "fp32"}
        return {
            r.shape.name: fp32[r.shape.name] / r.train_step_s
            for r in self.head_rates
            if r.precision == precision and r.shape.name in fp32
        }

    def _precision_line(self) -> str:
        parts = []
        for precision in ("tf32", "bf16"):
            ratios = self.precision_ratios(precision)
            shown = ", ".join(f"{name} {ratio:.2f}" for name, ratio in ratios.items())
            parts.append(f"{precision}/fp32 head step {shown or 'n/a (CUDA only)'}")
        return "; ".join(parts)

    def _backbones(self) -> list[str]:
        return list(dict.fromkeys(rate.backbone for rate in self.extraction))

    def lines(self) -> list[str]:
        lines = [
            f"extract {rate.backbone:<12} {rate.input_size:>3}px {rate.precision:<4} batch "
            f"{rate.batch:>3}: {rate.images_per_second:9.1f} images/s"
            + (f", peak {rate.peak_bytes / 2**30:.2f} GiB" if rate.peak_bytes else "")
            for rate in self.extraction
        ]
        lines += [
            f"train   {head.shape:<40} {head.seeds} seeds together "
            f"{head.vectorized_seconds:.3f} s, one at a time {head.sequential_seconds:.3f} s"
            for head in self.heads
        ]
        lines += [rate.line() for rate in self.head_rates]
        extract, train = self.study.hours(self.device)
        lines.append(
            f"study   {len(self.study.runs)} runs, {len(self.study.caches)} caches on "
            f"{self.device.name}: {extract + train:,.2f} h (extraction {extract:,.2f} h, "
            f"training {train:,.2f} h); the paper: about 5,000 T4-hours"
        )
        if self.saved:
            lines.append(f"saved   {self.saved} (radsweep sweep plan --device measured)")
        if self.rates_saved:
            lines.append(f"saved   {self.rates_saved} (head rates per shape and precision)")
        mixed = ", ".join(f"{name} {self.mixed_over_fp32(name):.2f}" for name in self._backbones())
        heads = ", ".join(f"{head.shape.split(', ')[-1]} {head.ratio:.2f}" for head in self.heads)
        lines.append(
            f"ratios: mixed/fp32 extraction {mixed}; vectorized/sequential {heads}; "
            + (f"{self._precision_line()}; " if self.head_rates else "")
            + f"paper hours/projected {self.paper_ratio:.3g}"
        )
        return lines

    def summary(self) -> dict[str, object]:
        extract, train = self.study.hours(self.device)
        return {
            "device": asdict(self.device),
            "extraction": [asdict(rate) for rate in self.extraction],
            "heads": [asdict(head) for head in self.heads],
            "head_rates": [
                {**asdict(rate), "shape": rate.shape.name, "tflops": rate.tflops}
                for rate in self.head_rates
            ],
            "rates_saved": self.rates_saved,
            "study": {
                "runs": len(self.study.runs),
                "caches": len(self.study.caches),
                "extraction_hours": extract,
                "training_hours": train,
                "paper_t4_hours": PAPER_T4_HOURS,
            },
            "saved": self.saved,
            "ratios": {
                "mixed_over_fp32": {name: self.mixed_over_fp32(name) for name in self._backbones()},
                "vectorized_over_sequential": {head.shape: head.ratio for head in self.heads},
                "fp32_over_tf32_step": self.precision_ratios("tf32"),
                "fp32_over_bf16_step": self.precision_ratios("bf16"),
                "paper_hours_over_projected": self.paper_ratio,
            },
        }


def run_device_bench(
    device: str | None,
    tiny: bool,
    home: Path,
    data_dir: Path,
    seeds: Sequence[int] = benchmark.DEFAULT_SEEDS,
) -> DeviceBench:
    """Measure extraction and head training here, project the study, save the throughput."""
    target = resolve_device(device)
    extraction = tuple(r for name in _backbones() for r in _extraction(name, target, tiny))
    sizes = HEAD_SIZES["tiny" if tiny else target.type]
    shapes = benchmark.TINY_SHAPES if tiny else PAPER_SHAPES
    heads = tuple(_head(shape, seeds, sizes, target) for shape in shapes)
    head_rates = _head_rates(target, tiny, seeds)
    measured = _throughput(target, extraction, heads, tiny)
    saved = None if tiny else _save(measured, home / MEASURED_FILE)
    rates = None if tiny else save_measured(gpu_rates(target, head_rates), rates_path(home))
    plan = load_plan([], True, data_dir)
    return DeviceBench(measured, extraction, heads, plan, saved, head_rates, rates)


def _head_rates(device: torch.device, tiny: bool, seeds: Sequence[int]) -> tuple[HeadRate, ...]:
    """The attention head at every backbone shape (the tiny one for ``tiny``), per precision."""
    work = WORKLOADS["tiny" if tiny else device.type]
    shapes = [shapes_bench.TINY_SHAPE] if tiny else head_shapes()
    return tuple(
        shapes_bench.measure(shape, precision, seeds, work, device)
        for shape in shapes
        for precision in precisions(device)
    )


def gpu_rates(device: torch.device, head_rates: Sequence[HeadRate]) -> MeasuredRates:
    """The measured rates as the plan reads them: one row per backbone and precision."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    rows = [
        MeasuredShape(
            backbone=backbone,
            tokens=rate.shape.tokens,
            width=rate.shape.width,
            seeds=rate.seeds,
            batch=rate.batch,
            precision=rate.precision.value,
            train_step_s=rate.train_step_s,
            validation_s_per_row=rate.validation_s_per_row,
            peak_memory_bytes=rate.peak_memory_bytes,
            tflops=rate.tflops,
        )
        for rate in head_rates
        for backbone in rate.shape.backbones
    ]
    return MeasuredRates(
        device_name=name,
        device_kind=device_kind(name),
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        radsweep_version=__version__,
        shapes=tuple(rows),
    )


def _backbones() -> list[str]:
    """The backbones the study's plan prices: every image row of the pretrained table that
    costs FLOPs (the parameter-free demo encoder costs none)."""
    return [entry.name for entry in entries("image") if entry.gflops]


def _extraction(name: str, device: torch.device, tiny: bool) -> list[ExtractionRate]:
    encoder = build_image_encoder(name, None if tiny else "random", tiny=tiny, device=device)
    if device.type == "cuda":
        encoder.to(memory_format=torch.channels_last)
    mixed = resolve_precision(device, None) if device.type == "cuda" else "bf16"
    rates = []
    for precision in ("fp32", mixed):
        batch = CPU_BATCH if device.type == "cpu" else fit_batch_size(encoder, precision)
        budget = SECONDS_PER_MEASURE["tiny" if tiny else "full"]
        rates.append(_rate(encoder, precision, min(batch, GPU_BATCH_CAP), device, budget))
    return rates


def _rate(
    encoder: ImageEncoder, precision: Precision, batch: int, device: torch.device, budget: float
) -> ExtractionRate:
    size = encoder.info.input_size or 224
    pixels = torch.randn(batch, 3, size, size, device=device)
    if device.type == "cuda":
        pixels = pixels.contiguous(memory_format=torch.channels_last)
        torch.cuda.reset_peak_memory_stats(device)
    autocast = torch.autocast(device.type, dtype=_DTYPES[precision], enabled=precision != "fp32")

    def forward() -> None:
        with torch.inference_mode(), autocast:
            encoder(pixels)

    seconds, count = _timed(forward, device, budget)
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
    rate = batch * count / seconds
    flops = _forward_flops(encoder, pixels[:1])
    return ExtractionRate(encoder.info.name, size, precision, batch, rate, peak, flops)


def _forward_flops(encoder: ImageEncoder, one: torch.Tensor) -> float:
    """FLOPs of one image's forward pass, counted by PyTorch (tiny and full size alike)."""
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        encoder(one)
    return float(counter.get_total_flops())


_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def _timed(work: Callable[[], None], device: torch.device, budget: float) -> tuple[float, int]:
    """Seconds and repeats of ``work`` over about ``budget`` seconds, after one warm-up."""
    work()
    _sync(device)
    start, count = time.perf_counter(), 0
    while count == 0 or time.perf_counter() - start < budget:
        work()
        _sync(device)
        count += 1
    return time.perf_counter() - start, count


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _head(
    shape: benchmark.TokenShape,
    seeds: Sequence[int],
    sizes: tuple[int, int, int],
    device: torch.device,
) -> HeadSpeedup:
    """Vectorized vs sequential training steps on ``device`` (the median of paired rounds) and
    the FLOPs of the vectorized side's steps."""
    batch, steps, rounds = sizes
    result = benchmark.vectorization(shape, seeds, batch, steps, rounds, device)
    forward = head_spec(shape.head).forward_flops(shape.tokens, shape.dim)
    flops, _ = fit_flops(forward, batch * steps, 0, 1, len(seeds))
    return HeadSpeedup(
        shape.name, len(seeds), result.vectorized_seconds, result.sequential_seconds, flops
    )


def _throughput(
    device: torch.device,
    rates: tuple[ExtractionRate, ...],
    heads: tuple[HeadSpeedup, ...],
    tiny: bool,
) -> Device:
    """Sustained TFLOP/s: mixed-precision extraction over the backbones, the attention fit."""
    mixed = [rate for rate in rates if rate.precision != "fp32"]
    seconds_per_image = sum(1 / rate.images_per_second for rate in mixed)
    flops_per_image = sum(rate.flops_per_image for rate in mixed)
    attention = next(head for head in heads if "attention" in head.shape)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "this CPU"
    return Device(
        name=f"{name} (measured{', tiny shapes' if tiny else ''})",
        extract_tflops=flops_per_image / seconds_per_image / 1e12,
        train_tflops=attention.flops / attention.vectorized_seconds / 1e12,
        source=f"radsweep bench gpu on {name}",
    )


def _save(device: Device, path: Path) -> Path:
    write_text_atomic(path, json.dumps(asdict(device), indent=2) + "\n")
    return path
