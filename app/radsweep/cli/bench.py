"""``radsweep bench``: benchmarks that print a ratio measured in one run (``radsweep.bench``)."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from radsweep.cli.context import console, err_console, settings
from radsweep.cli.options import DeviceOption, JsonFlag
from radsweep.cli.output import print_json
from radsweep.cli.train import parse_seeds

if TYPE_CHECKING:
    from radsweep.bench import BenchResult

app = typer.Typer(help="Benchmarks; each prints a ratio measured in one run.", no_args_is_help=True)


def _show(result: "BenchResult", as_json: bool) -> None:
    if as_json:
        print_json(result.summary())
        return
    for line in result.lines():
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _progress(as_json: bool) -> Callable[[str], None]:
    """Where a benchmark's running notes go: stdout for people, stderr beside JSON."""
    target = err_console if as_json else console
    return lambda line: target.print(line, markup=False, highlight=False, soft_wrap=True)


@app.command()
def synth(
    samples: Annotated[int, typer.Option(help="Benchmark size (images).")] = 500,
    as_json: JsonFlag = False,
) -> None:
    """Synthetic benchmark generation on one core: end-to-end build vs drawing alone.

    Prints images/s for both, the projected time for 2,000 samples against the 30 s budget, and
    last the ratio end-to-end / drawing-only throughput (1.0 = writing costs nothing).

    Example: radsweep bench synth --samples 500
    """
    from radsweep.bench.synth import run_synth_bench

    _show(run_synth_bench(samples), as_json)


@app.command()
def train(
    seeds: Annotated[str, typer.Option(help="Seeds trained together, e.g. 0-4 or 0,2,7.")] = "0-4",
    tiny: Annotated[
        bool, typer.Option("--tiny", help="Tiny token shapes: a quick smoke run, not a measure.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Training throughput: vectorized seeds vs one at a time, and step FLOP/s vs GEMM FLOP/s.

    (1) For ResNet-18 tokens, ViT-B tokens and Mean-LP: time of 4 training steps (a second's
    worth for a faster head) of all seeds in one stacked head divided into the time of the same
    steps one seed at a time (targets: at least 0.95 everywhere, 3x for Mean-LP). (2) FLOP/s of
    one attention-head training step of all seeds at ViT-B shape as a fraction of a 2048-square
    GEMM's FLOP/s in the same process (target: 0.7 on CPU). Each ratio pairs its two sides in
    time and is a median over repeats; each is printed as soon as it is measured, and the ratios
    together last.

    Example: radsweep bench train --seeds 0-4
    """
    from radsweep.bench.train import run_train_bench

    if as_json:
        _show(run_train_bench(parse_seeds(seeds), tiny, _progress(as_json)), as_json)
        return
    result = run_train_bench(parse_seeds(seeds), tiny, _progress(as_json))  # a line as measured
    _progress(as_json)(result.lines()[-1])  # then the ratios together, last


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
    as_json: JsonFlag = False,
) -> None:
    """Feature extraction on all cores: end-to-end throughput vs the bare forward pass.

    Runs a randomly initialised ViT-B/16 at 224 over synthetic radiographs. Prints
    images/s for the forward pass alone (images preprocessed in advance) and for the
    whole extraction (decode in workers, fp16 writes, checksums, consolidation), then
    last the ratio end-to-end / forward (1.0 = decoding and writing fully hidden).

    Example: radsweep bench extract --seconds 20
    """
    from radsweep.bench.features import run_extract_bench

    result = run_extract_bench(
        None, batch_size, workers, rounds, seconds, images, report=_progress(as_json)
    )
    _show(result, as_json)


@app.command()
def sweep(
    ctx: typer.Context,
    spec: Annotated[
        str,
        typer.Argument(help="Spec (file or packaged name) whose first runs are measured."),
    ] = "demo",
    runs: Annotated[int, typer.Option(min=1, help="Runs measured: the spec's first ones.")] = 4,
    device: DeviceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Per-run overhead of a local sweep: queue + W&B tracking + results store vs training.

    Runs the spec's first runs as a one-worker local sweep in this process (W&B offline; queue,
    store and W&B files in a temporary folder), their features extracted beforehand and not
    counted. Prints seconds per component, then last the ratio overhead / training time.

    Example: radsweep bench sweep demo --runs 2
    """
    from radsweep.bench.sweep import run_sweep_bench

    result = run_sweep_bench(spec, settings(ctx), runs, device=device, report=_progress(as_json))
    if as_json:
        print_json(result.summary())
        return
    first, last = result.lines()
    console.print(first, markup=False, highlight=False, soft_wrap=True)
    table = Table(title="per-run time by component", title_justify="left")
    for column in ("component", "total s", "per run s", "of training"):
        table.add_column(column, justify="left" if column == "component" else "right")
    for label, total, per_run, share in result.rows():
        table.add_row(label, f"{total:.2f}", f"{per_run:.3f}", f"{share:.1%}")
    console.print(table)
    console.print(last, markup=False, highlight=False, soft_wrap=True)


@app.command()
def students(
    ctx: typer.Context,
    seeds: Annotated[
        str | None, typer.Option(help="Seeds of each student (default: the demo's).")
    ] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Timed rounds (median of ratios).")] = 1,
    device: DeviceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A 2 x 2 τ/λ grid of students trained in one pass vs one pass per student.

    The demo's distillation run of synth-prognostic (pixel patches + MiniLM sentences) at τ in
    {0.25, 1} and λ in {0.3, 0.7}: separately (the first trains the teacher, the others read it,
    as runs did before grouping) and grouped (``sweep local``'s way: teacher once, students
    together). Needs the synthetic benchmark (radsweep demo builds it); features are extracted
    first if missing, not timed. Prints both times, then last the ratio separate / grouped.

    Example: radsweep bench students --rounds 2
    """
    from radsweep.bench.students import run_students_bench

    chosen = parse_seeds(seeds) if seeds is not None else None
    progress = _progress(as_json)
    _show(
        run_students_bench(
            settings(ctx), seeds=chosen, rounds=rounds, device=device, report=progress
        ),
        as_json,
    )


@app.command()
def gpu(
    ctx: typer.Context,
    device: Annotated[
        str | None, typer.Option(help="Torch device to measure (default: cuda if present).")
    ] = None,
    tiny: Annotated[
        bool, typer.Option("--tiny", help="Tiny encoders and shapes: a smoke run (CI), no measure.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """One-shot device benchmark: extraction, head training and the study's projected hours.

    Prints each backbone's forward images/s at its paper resolution in fp32 and mixed precision
    (bf16, else fp16) with peak GPU memory; 5 seeds trained in one vectorized fit against one
    after another at ViT-B token shapes (attention head, Mean-LP); the whole study's projected
    hours from the throughput measured here (saved for `radsweep sweep plan --device measured`);
    ratios last. Random weights, nothing downloaded; under 5 minutes on one GPU.

    Example: radsweep bench gpu --device cuda
    """
    from radsweep.bench.gpu import run_device_bench

    config = settings(ctx)
    _show(run_device_bench(device, tiny, config.home, config.data), as_json)
