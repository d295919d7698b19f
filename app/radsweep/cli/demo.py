"""``radsweep demo``: the embedded default job on the synthetic benchmark."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from radsweep.cli.context import console, settings
from radsweep.cli.data import build_synthetic
from radsweep.tasks.probe import probe, thumbnails
from radsweep.tasks.synthetic import SynthConfig
from radsweep.tasks.synthetic.build import SynthBenchmark


def _summary(benchmark: SynthBenchmark) -> Table:
    table = Table(
        title="Synthetic benchmark: how much each modality says about the label (seed 0)",
        title_justify="left",
        caption="AUC of logistic regression on report n-grams / 32x32 pixels, validation set.",
        caption_justify="left",
    )
    table.add_column("task", no_wrap=True)
    for column in ("samples", "patients", "train/val", "report AUC", "image AUC"):
        table.add_column(column, justify="right")
    pixels = None
    for name in benchmark.task_names:
        manifest = benchmark.manifest(name)
        pixels = thumbnails(manifest) if pixels is None else pixels
        result = probe(manifest, pixels)
        table.add_row(
            name,
            str(len(manifest.frame)),
            str(manifest.frame["patient_id"].nunique()),
            f"{result.training_samples}/{result.validation_samples}",
            f"{result.report_auc:.3f}",
            f"{result.image_auc:.3f}",
        )
    return table


def demo(
    ctx: typer.Context,
    samples: Annotated[
        int, typer.Option(help="Size of the synthetic benchmark.")
    ] = SynthConfig().samples,
    seed: Annotated[int, typer.Option(help="Benchmark seed.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Benchmark folder (default: DATA/synthetic).")
    ] = None,
) -> None:
    """Run the main job on the embedded default: build the synthetic benchmark and summarise it.

    A second run reuses the build. The summary shows the study's premise on synthetic data: the
    report determines the diagnostic label, carries part of the prognostic signal, and says little
    about age, which the image shows.
    """
    config = SynthConfig(samples=samples, seed=seed)
    benchmark = build_synthetic(config, out or settings(ctx).synthetic, force=False)
    console.print(_summary(benchmark))
    console.print(
        f"Next: [bold]radsweep data tasks[/] lists the tasks; "
        f"[bold]radsweep data splits {benchmark.directory / 'synth-prognostic'}[/] shows a split."
    )
