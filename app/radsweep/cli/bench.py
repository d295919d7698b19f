"""``radsweep bench``: benchmarks that print a ratio measured in one run."""

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from radsweep.cli.context import console, settings
from radsweep.tasks.synthetic import SynthConfig, synthesize
from radsweep.tasks.synthetic.cohort import sample_cohort
from radsweep.tasks.synthetic.radiograph import draw_radiograph
from radsweep.training.config import HeadKind

if TYPE_CHECKING:
    from radsweep.encoders.base import ImageEncoder

app = typer.Typer(help="Benchmarks; each prints a ratio measured in one run.", no_args_is_help=True)

BUDGET_SECONDS_PER_2000 = 30.0
DEMO_SPEC = Path("sweeps/demo.yaml")


@contextmanager
def _one_core() -> Iterator[None]:
    """Run the body on a single core (where the OS allows), then restore the affinity."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


@app.command()
def synth(
    samples: Annotated[int, typer.Option(help="Benchmark size (images).")] = 500,
) -> None:
    """Synthetic benchmark generation on one core: end-to-end build vs drawing alone.

    Prints images/s for both, the projected time for 2,000 samples against the 30 s budget, and
    last the ratio end-to-end / drawing-only throughput (1.0 = writing costs nothing).
    """
    config = SynthConfig(samples=samples)
    studies = sample_cohort(config)
    with _one_core(), tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        for study in studies:
            draw_radiograph(study, config)
        drawing = time.perf_counter() - start
        start = time.perf_counter()
        synthesize(config, Path(folder) / "bench")
        end_to_end = time.perf_counter() - start
    projected = end_to_end * 2000 / samples
    console.print(f"drawing only : {samples / drawing:8.1f} images/s")
    console.print(
        f"end to end   : {samples / end_to_end:8.1f} images/s (images, reports, manifests)"
    )
    console.print(
        f"2,000 samples: {projected:.1f} s projected on one core "
        f"(budget {BUDGET_SECONDS_PER_2000:.0f} s, "
        f"{BUDGET_SECONDS_PER_2000 / projected:.2f}x headroom)"
    )
    console.print(f"ratio end-to-end/drawing throughput: {drawing / end_to_end:.3f}")


_TINY_SHAPES = (
    ("tiny tokens (16 x 32), attention", 16, 32, HeadKind.ATTENTION),
    ("tiny tokens (16 x 32), Mean-LP", 16, 32, HeadKind.MEAN_LP),
)


@app.command()
def train(
    seeds: Annotated[int, typer.Option(help="Seeds trained together.")] = 5,
    tiny: Annotated[
        bool, typer.Option("--tiny", help="Tiny token shapes: a quick smoke run, not a measure.")
    ] = False,
) -> None:
    """Training throughput: vectorized seeds vs one at a time, and step FLOP/s vs GEMM FLOP/s.

    (1) For ResNet-18 tokens, ViT-B tokens and Mean-LP: wall time of one fit of all seeds divided
    into the time of fitting them one after another (targets: at least 0.95 everywhere, 3x for
    Mean-LP). (2) FLOP/s of one attention-head training step of all seeds at ViT-B shape as a
    fraction of a 2048-square GEMM's FLOP/s in the same process (target: 0.7 on CPU). Each ratio
    pairs its two sides in time and is a median over repeats; about 3 minutes on 2 cores.
    """
    import torch

    from radsweep.training import benchmark

    torch.set_flush_denormal(True)
    tiny_shapes = tuple(benchmark.TokenShape(*shape) for shape in _TINY_SHAPES)
    shapes = tiny_shapes if tiny else benchmark.STUDY_SHAPES
    speedups = []
    for shape in shapes:
        result = benchmark.vectorization(shape, seeds=seeds)
        speedups.append(result.speedup)
        console.print(
            f"{shape.name:42s} {seeds} seeds together {result.vectorized_seconds:7.2f} s, "
            f"one at a time {result.sequential_seconds:7.2f} s: {result.speedup:.2f}x",
            soft_wrap=True,
        )
    step = benchmark.efficiency(shapes[0] if tiny else benchmark.STUDY_SHAPES[1], seeds=seeds)
    console.print(
        f"attention step ({seeds} seeds): {step.step_flops / 1e9:.1f} GFLOP in "
        f"{step.step_seconds:.2f} s = {step.step_flops_per_second / 1e9:.1f} GFLOP/s; "
        f"GEMM {step.gemm_flops_per_second / 1e9:.1f} GFLOP/s",
        soft_wrap=True,
    )
    console.print(
        "ratios: vectorized/sequential "
        + ", ".join(f"{value:.2f}" for value in speedups)
        + f"; attention step/GEMM FLOP/s {step.fraction_of_gemm:.3f}",
        soft_wrap=True,
    )


def _bench_encoder() -> "ImageEncoder":
    """The model ``bench extract`` measures: a randomly initialised ViT-B/16 at 224 (Medical MAE's
    architecture and preprocessing; nothing is downloaded)."""
    from radsweep.encoders import build_image_encoder

    return build_image_encoder("medical-mae", "random", device="cpu")


@app.command()
def extract(
    seconds: Annotated[
        float, typer.Option(min=1.0, help="Time budget of the measurements (not the set-up).")
    ] = 60.0,
    images: Annotated[
        int | None,
        typer.Option(min=50, help="Images per measurement (default: sized to --seconds)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward pass.")] = 8,
    workers: Annotated[int, typer.Option(min=0, help="Decoding worker processes.")] = 1,
    rounds: Annotated[
        int, typer.Option(min=1, help="Alternating rounds; the best of each is kept.")
    ] = 2,
) -> None:
    """Feature extraction on all cores: end-to-end throughput vs the bare forward pass.

    Runs a randomly initialised ViT-B/16 at 224 over synthetic radiographs. Prints
    images/s for the forward pass alone (images preprocessed in advance) and for the
    whole extraction (decode in workers, fp16 writes, checksums, consolidation), then
    last the ratio end-to-end / forward (1.0 = decoding and writing fully hidden).
    """
    from radsweep.features.bench import run_extract_bench

    encoder = _bench_encoder()
    result = run_extract_bench(
        encoder, batch_size, workers, rounds, seconds, images, report=console.print
    )
    console.print(
        f"model        : {encoder.info.architecture}, batch {batch_size}, "
        f"{workers} decoding worker(s), {result.images} images, best of {rounds}"
    )
    best = max(result.rounds, key=lambda one: one.end_to_end_rate)
    console.print(f"forward only : {max(one.forward_rate for one in result.rounds):8.2f} images/s")
    console.print(
        f"end to end   : {best.end_to_end_rate:8.2f} images/s "
        f"(forward pass {best.compute_share:.1%} of its wall time)"
    )
    console.print(f"ratio end-to-end/forward throughput: {result.ratio:.3f}")


@app.command()
def sweep(
    ctx: typer.Context,
    spec: Annotated[Path, typer.Argument(help="Sweep spec whose first runs are measured.")] = (
        DEMO_SPEC
    ),
    runs: Annotated[int, typer.Option(min=1, help="Runs measured: the spec's first ones.")] = 4,
    device: Annotated[
        str | None, typer.Option(help="Torch device for extraction and training (default: auto).")
    ] = None,
) -> None:
    """Per-run overhead of a local sweep: queue + W&B tracking + results store vs training.

    Runs the spec's first runs as a one-worker local sweep in this process (W&B offline; queue,
    store and W&B files in a temporary folder), their features extracted beforehand and not
    counted. Prints seconds per component, then last the ratio overhead / training time.
    """
    from rich.table import Table

    from radsweep.sweeps.bench import OVERHEAD, run_sweep_bench
    from radsweep.sweeps.spec import load_spec

    loaded = load_spec(spec)
    console.print(f"{loaded.name}: features for the first {runs} runs (extracted if missing)")
    result = run_sweep_bench(loaded, settings(ctx), runs, device=device)
    console.print(
        f"{result.runs} runs in {result.total:.1f} s "
        f"(features ready beforehand in {result.preparation:.1f} s, not counted)",
        soft_wrap=True,
    )
    table = Table(title="per-run time by component", title_justify="left")
    table.add_column("component")
    table.add_column("total s", justify="right")
    table.add_column("per run s", justify="right")
    table.add_column("of training", justify="right")
    training = result.seconds["training"]
    for stage, seconds in result.seconds.items():
        label = f"{stage} (overhead)" if stage in OVERHEAD else stage
        table.add_row(
            label, f"{seconds:.2f}", f"{seconds / result.runs:.3f}", f"{seconds / training:.1%}"
        )
    console.print(table)
    console.print(f"ratio overhead/training time: {result.ratio:.3f}")


@app.command()
def gpu(
    ctx: typer.Context,
    device: Annotated[
        str | None, typer.Option(help="Torch device to measure (default: cuda if present).")
    ] = None,
    tiny: Annotated[
        bool, typer.Option("--tiny", help="Tiny encoders and shapes: a smoke run (CI), no measure.")
    ] = False,
) -> None:
    """One-shot device benchmark: extraction, head training and the study's projected hours.

    Prints each backbone's forward images/s at its paper resolution in fp32 and mixed precision
    (bf16, else fp16) with peak GPU memory; 5 seeds trained in one vectorized fit against one
    after another at ViT-B token shapes (attention head, Mean-LP); the whole study's projected
    hours from the throughput measured here (saved for `radsweep sweep plan --device measured`);
    ratios last. Random weights, nothing downloaded; under 5 minutes on one GPU.
    """
    from radsweep.devicebench import paper_ratio, run_device_bench

    config = settings(ctx)
    result = run_device_bench(device, tiny, config.home, config.data)
    for rate in result.extraction:
        memory = f", peak {rate.peak_bytes / 2**30:.2f} GiB" if rate.peak_bytes else ""
        console.print(
            f"extract {rate.backbone:<12} {rate.input_size:>3}px {rate.precision:<4} batch "
            f"{rate.batch:>3}: {rate.images_per_second:9.1f} images/s{memory}",
            soft_wrap=True,
        )
    for head in result.heads:
        console.print(
            f"train   {head.shape:<40} {head.seeds} seeds together {head.vectorized_seconds:.3f} s,"
            f" one at a time {head.sequential_seconds:.3f} s",
            soft_wrap=True,
        )
    extract, train = result.study.hours(result.device)
    console.print(
        f"study   {len(result.study.runs)} runs, {len(result.study.caches)} caches on "
        f"{result.device.name}: {extract + train:,.2f} h (extraction {extract:,.2f} h, "
        f"training {train:,.2f} h); the paper: about 5,000 T4-hours",
        soft_wrap=True,
    )
    if result.saved:
        console.print(f"saved   {result.saved} (radsweep sweep plan --device measured)")
    mixed = ", ".join(
        f"{name} {result.mixed_over_fp32(name):.2f}"
        for name in dict.fromkeys(rate.backbone for rate in result.extraction)
    )
    heads = ", ".join(f"{head.shape.split(', ')[-1]} {head.ratio:.2f}" for head in result.heads)
    console.print(
        f"ratios: mixed/fp32 extraction {mixed}; vectorized/sequential {heads}; "
        f"paper hours/projected {paper_ratio(result):.3g}",
        soft_wrap=True,
    )
