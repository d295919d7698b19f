"""``radsweep data synth``: the synthetic causal benchmark, its knobs read off ``SynthConfig``."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from radsweep.cli.context import console, progress_bar, settings
from radsweep.cli.options import model_options
from radsweep.tasks.synthetic.config import SynthConfig

if TYPE_CHECKING:  # imported when the command runs: it pulls in pandas and OpenCV
    from radsweep.tasks.synthetic import SynthBenchmark


def build_synthetic(config: SynthConfig, out: Path, force: bool) -> "SynthBenchmark":
    """Build (or reuse) the synthetic benchmark with a progress bar."""
    from radsweep.tasks.synthetic import synthesize

    with progress_bar("images") as bar:
        job = bar.add_task("drawing radiographs", total=config.samples)
        benchmark = synthesize(config, out, force, lambda done: bar.advance(job, done))
    verb = "reused" if benchmark.reused else "built"
    console.print(f"{verb} synthetic benchmark ({config.samples} samples) in {out}")
    return benchmark


SYNTH_FIELDS = (
    "samples", "seed", "image_size", "finding_visibility", "report_fidelity",
    "prognosis_image_weight", "prognosis_report_weight", "outcome_noise",
    "severity_image_noise", "report_privileged", "age_visibility", "age_mention_rate",
)  # fmt: skip
"""The SynthConfig knobs ``data synth`` offers; the others keep the benchmark's defaults."""


@model_options(SynthConfig, SYNTH_FIELDS)
def synth(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: DATA/synthetic).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even if an identical build exists.")
    ] = False,
    **knobs: Any,
) -> None:
    """Build the synthetic causal benchmark: images, reports and three task manifests.

    Diagnostic (label extracted from the report), prognostic (latent state plus noise) and age
    (visible in the image, rarely in the report), as in the paper's Figure 4.

    Example: radsweep data synth --out ~/hard --finding-visibility 0.2 --outcome-noise 1.5
    """
    build_synthetic(SynthConfig(**knobs), out or settings(ctx).synthetic, force)
