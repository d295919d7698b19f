"""``radsweep bench``: benchmarks that print a ratio measured in one run."""

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from radsweep.cli.context import console
from radsweep.tasks.synthetic import SynthConfig, synthesize
from radsweep.tasks.synthetic.cohort import sample_cohort
from radsweep.tasks.synthetic.radiograph import draw_radiograph

app = typer.Typer(help="Benchmarks; each prints a ratio measured in one run.", no_args_is_help=True)

BUDGET_SECONDS_PER_2000 = 30.0


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
