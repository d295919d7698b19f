"""``radsweep data build``: the study's tasks from the user's MIMIC and INSPECT copies (the
INSPECT commands are in ``build_inspect``). Loaded only when ``data build`` runs (cli.lazy)."""

from pathlib import Path
from typing import Annotated

import typer

from radsweep.cli import build_inspect, iu_xray
from radsweep.cli.sources import Out, Seed, out_folder, progress, required, show_built
from radsweep.errors import RadsweepError
from radsweep.tasks.builders import mimic
from radsweep.tasks.builders.mimic_sources import (
    FRONTAL_VIEWS,
    JPG_LAYOUT,
    MIMIC_IV_LAYOUT,
    REPORTS_LAYOUT,
    Labeler,
)
from radsweep.tasks.catalogue import AGE_BIN_EDGES

app = typer.Typer(no_args_is_help=True)  # its help is the lazy group's (cli.data.BUILD_HELP)

Jpg = Annotated[
    Path | None,
    typer.Option("--mimic-cxr-jpg", help=f"Required: {JPG_LAYOUT}.", show_default=False),
]
Reports = Annotated[
    Path | None,
    typer.Option("--mimic-cxr-reports", help=f"Required: {REPORTS_LAYOUT}.", show_default=False),
]
MimicIV = Annotated[
    Path | None,
    typer.Option("--mimic-iv", help=f"Required: {MIMIC_IV_LAYOUT}.", show_default=False),
]
Views = Annotated[
    str, typer.Option(help="Frontal ViewPosition values, in order of preference (comma-separated).")
]
MaxSamples = Annotated[
    int | None,
    typer.Option(help="Keep a seeded subset of at most this many images (default: all)."),
]


_FRONTAL = ",".join(FRONTAL_VIEWS)
_AGE_EDGES = ",".join(map(str, AGE_BIN_EDGES))


def _views(text: str) -> tuple[str, ...]:
    return tuple(part.strip().upper() for part in text.split(",") if part.strip())


@app.command("mimic-5x1200")
def mimic_5x1200(
    ctx: typer.Context,
    mimic_cxr_jpg: Jpg = None,
    mimic_cxr_reports: Reports = None,
    out: Out = None,
    seed: Seed = 0,
    rule: Annotated[
        mimic.Rule,
        typer.Option(
            help="exactly-one: one of the five is 1, the others anything but 1 (the paper). "
            "strict: blanks as 0, the class 1 and the 12 other observations 0 (GLoRIA)."
        ),
    ] = mimic.Rule.EXACTLY_ONE,
    labeler: Annotated[Labeler, typer.Option(help="Which released label file.")] = (
        Labeler.CHEXPERT
    ),
    views: Views = _FRONTAL,
    per_class: Annotated[int, typer.Option(help="Images per class (train + eval).")] = 1200,
    eval_per_class: Annotated[int, typer.Option(help="Evaluation images per class.")] = 200,
) -> None:
    """MIMIC 5x1200: one of five findings per study, 1,000 train / 200 eval images per class.

    Example: radsweep data build mimic-5x1200 --mimic-cxr-jpg JPG --mimic-cxr-reports REPORTS
    """
    jpg = required(mimic_cxr_jpg, "--mimic-cxr-jpg", JPG_LAYOUT)
    reports = required(mimic_cxr_reports, "--mimic-cxr-reports", REPORTS_LAYOUT)
    with progress() as step:
        manifest = mimic.build_5x1200(
            jpg,
            reports,
            out_folder(ctx, out, "mimic-5x1200"),
            seed=seed,
            rule=rule,
            labeler=labeler,
            views=_views(views),
            per_class=per_class,
            eval_per_class=eval_per_class,
            progress=step,
        )
    show_built(manifest)


def _edges(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise RadsweepError(
            f"--age-bins must be whole years separated by commas, got {text!r}",
            hint=f"e.g. --age-bins {','.join(map(str, AGE_BIN_EDGES))}",
        ) from error


@app.command()
def age(
    ctx: typer.Context,
    mimic_cxr_jpg: Jpg = None,
    mimic_cxr_reports: Reports = None,
    mimic_iv: MimicIV = None,
    out: Out = None,
    seed: Seed = 0,
    age_bins: Annotated[
        str,
        typer.Option(
            help="Inner bin edges in years; the default is a documented choice, NOT verified "
            "against RAD-DINO's bins."
        ),
    ] = _AGE_EDGES,
    views: Views = _FRONTAL,
    max_samples: MaxSamples = None,
) -> None:
    """Age: the patient's age at the study (MIMIC-IV anchor age and year) in bins.

    Example: radsweep data build age --mimic-cxr-jpg JPG --mimic-cxr-reports REPORTS --mimic-iv HOSP
    """
    jpg = required(mimic_cxr_jpg, "--mimic-cxr-jpg", JPG_LAYOUT)
    reports = required(mimic_cxr_reports, "--mimic-cxr-reports", REPORTS_LAYOUT)
    hosp = required(mimic_iv, "--mimic-iv", MIMIC_IV_LAYOUT)
    with progress() as step:
        manifest = mimic.build_age(
            jpg,
            reports,
            hosp,
            out_folder(ctx, out, "age"),
            edges=_edges(age_bins),
            views=_views(views),
            max_samples=max_samples,
            seed=seed,
            progress=step,
        )
    show_built(manifest)


@app.command("3-day-discharge")
def discharge(
    ctx: typer.Context,
    mimic_cxr_jpg: Jpg = None,
    mimic_cxr_reports: Reports = None,
    mimic_iv: MimicIV = None,
    out: Out = None,
    seed: Seed = 0,
    pre_admission_hours: Annotated[
        float,
        typer.Option(
            help="Also link images taken this many hours before admittime (the ED registration "
            "time edregtime is always used)."
        ),
    ] = 0.0,
    deaths: Annotated[
        mimic.Deaths,
        typer.Option(help="Admissions ending in death: exclude, or count as not discharged."),
    ] = mimic.Deaths.EXCLUDE,
    views: Views = _FRONTAL,
    max_samples: MaxSamples = None,
) -> None:
    """3-Day Discharge: discharged within 72 h of the image (MIMIC-IV admissions).

    Example: radsweep data build 3-day-discharge --mimic-cxr-jpg JPG --mimic-cxr-reports REPORTS
    --mimic-iv HOSP
    """
    jpg = required(mimic_cxr_jpg, "--mimic-cxr-jpg", JPG_LAYOUT)
    reports = required(mimic_cxr_reports, "--mimic-cxr-reports", REPORTS_LAYOUT)
    hosp = required(mimic_iv, "--mimic-iv", MIMIC_IV_LAYOUT)
    with progress() as step:
        manifest = mimic.build_discharge(
            jpg,
            reports,
            hosp,
            out_folder(ctx, out, "3-day-discharge"),
            views=_views(views),
            tolerance_hours=pre_admission_hours,
            deaths=deaths,
            max_samples=max_samples,
            seed=seed,
            progress=step,
        )
    show_built(manifest)


build_inspect.register(app)
app.command("iu-xray")(iu_xray.build)
