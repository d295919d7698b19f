"""``radsweep data build``: the study's tasks from the user's MIMIC and INSPECT copies."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from radsweep.cli.context import console, progress_bar, settings
from radsweep.errors import RadsweepError
from radsweep.imaging.drr import DrrGeometry, DrrMethod
from radsweep.tasks.builders import inspect as inspect_builder
from radsweep.tasks.builders import mimic
from radsweep.tasks.builders.common import Advance, Progress
from radsweep.tasks.builders.mimic_sources import (
    FRONTAL_VIEWS,
    JPG_LAYOUT,
    MIMIC_IV_LAYOUT,
    REPORTS_LAYOUT,
    Labeler,
)
from radsweep.tasks.catalogue import AGE_BIN_EDGES
from radsweep.tasks.manifest import Manifest

app = typer.Typer(
    help=(
        "Build the study's task manifests from your credentialed copies: MIMIC-CXR-JPG 2.1.0 + "
        "MIMIC-CXR 2.1.0 reports (+ MIMIC-IV 3.1) and INSPECT. Nothing leaves your machine."
    ),
    no_args_is_help=True,
)

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
Out = Annotated[Path | None, typer.Option(help="Task folder to write (default: DATA/<task>).")]
Seed = Annotated[int, typer.Option(help="Seed of every random draw (same seed, same manifest).")]
Views = Annotated[
    str, typer.Option(help="Frontal ViewPosition values, in order of preference (comma-separated).")
]
MaxSamples = Annotated[
    int | None,
    typer.Option(help="Keep a seeded subset of at most this many images (default: all)."),
]


_FRONTAL = ",".join(FRONTAL_VIEWS)
_AGE_EDGES = ",".join(map(str, AGE_BIN_EDGES))


def _required(value: Path | None, flag: str, layout: str) -> Path:
    if value is None:
        raise RadsweepError(f"missing option {flag}", hint=f"pass {layout}")
    if not value.exists():
        raise RadsweepError(f"{flag} {value} does not exist", hint=f"pass {layout}")
    return value


def _views(text: str) -> tuple[str, ...]:
    return tuple(part.strip().upper() for part in text.split(",") if part.strip())


@contextmanager
def _progress() -> Iterator[Progress]:
    """Progress bars for the long steps; drawn only once a step starts, so early errors stay
    one line."""
    bar = progress_bar("items")

    def start(description: str, total: int) -> Advance:
        if not bar.live.is_started:
            bar.start()
        job = bar.add_task(description, total=total)
        return lambda done: bar.advance(job, done)

    try:
        yield start
    finally:
        if bar.live.is_started:
            bar.stop()


def _report(manifest: Manifest) -> None:
    frame, task = manifest.frame, manifest.task
    counts = frame["label"].value_counts()
    console.print(
        f"[green]built[/] {task.name} in {manifest.directory}: {len(frame)} samples, "
        f"{frame['patient_id'].nunique()} patients; "
        + ", ".join(f"{name} {counts.get(i, 0)}" for i, name in enumerate(task.classes))
    )
    dropped = manifest.info.builder.get("counts", {})
    if dropped:
        console.print("rows left out: " + ", ".join(f"{k} {v}" for k, v in dropped.items()))


def _out(ctx: typer.Context, out: Path | None, task: str) -> Path:
    return out or settings(ctx).data / task


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
    """MIMIC 5x1200: one of five findings per study, 1,000 train / 200 eval images per class."""
    jpg = _required(mimic_cxr_jpg, "--mimic-cxr-jpg", JPG_LAYOUT)
    reports = _required(mimic_cxr_reports, "--mimic-cxr-reports", REPORTS_LAYOUT)
    with _progress() as progress:
        manifest = mimic.build_5x1200(
            jpg,
            reports,
            _out(ctx, out, "mimic-5x1200"),
            seed=seed,
            rule=rule,
            labeler=labeler,
            views=_views(views),
            per_class=per_class,
            eval_per_class=eval_per_class,
            progress=progress,
        )
    _report(manifest)


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
    """Age: the patient's age at the study (MIMIC-IV anchor age and year) in bins."""
    jpg = _required(mimic_cxr_jpg, "--mimic-cxr-jpg", JPG_LAYOUT)
    reports = _required(mimic_cxr_reports, "--mimic-cxr-reports", REPORTS_LAYOUT)
    hosp = _required(mimic_iv, "--mimic-iv", MIMIC_IV_LAYOUT)
    with _progress() as progress:
        manifest = mimic.build_age(
            jpg,
            reports,
            hosp,
            _out(ctx, out, "age"),
            edges=_edges(age_bins),
            views=_views(views),
            max_samples=max_samples,
            seed=seed,
            progress=progress,
        )
    _report(manifest)


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
    """3-Day Discharge: discharged within 72 h of the image (MIMIC-IV admissions)."""
    jpg = _required(mimic_cxr_jpg, "--mimic-cxr-jpg", JPG_LAYOUT)
    reports = _required(mimic_cxr_reports, "--mimic-cxr-reports", REPORTS_LAYOUT)
    hosp = _required(mimic_iv, "--mimic-iv", MIMIC_IV_LAYOUT)
    with _progress() as progress:
        manifest = mimic.build_discharge(
            jpg,
            reports,
            hosp,
            _out(ctx, out, "3-day-discharge"),
            views=_views(views),
            tolerance_hours=pre_admission_hours,
            deaths=deaths,
            max_samples=max_samples,
            seed=seed,
            progress=progress,
        )
    _report(manifest)


_GEOMETRY = DrrGeometry()
_WORKERS = max(1, (os.cpu_count() or 2) // 2)


def _inspect_command(task: str, title: str) -> None:
    def command(
        ctx: typer.Context,
        inspect_dir: Annotated[
            Path | None,
            typer.Option(
                "--inspect", help=f"Required: {inspect_builder.LAYOUTS}.", show_default=False
            ),
        ] = None,
        out: Out = None,
        seed: Seed = 0,
        volumes: Annotated[
            Path | None,
            typer.Option(help="Folder of IMAGE_ID.nii.gz volumes (default: INSPECT/CTPA)."),
        ] = None,
        drr_dir: Annotated[
            Path | None,
            typer.Option(
                help="DRR folder shared by the INSPECT tasks (default: OUT/../inspect-drr)."
            ),
        ] = None,
        drr: Annotated[
            DrrMethod,
            typer.Option(help="Projector: plastimatch, numpy, or auto (plastimatch if installed)."),
        ] = DrrMethod.AUTO,
        workers: Annotated[int, typer.Option(help="Volumes rendered in parallel.")] = _WORKERS,
        sad: Annotated[float, typer.Option(help="Source-axis distance (mm).")] = _GEOMETRY.sad_mm,
        sid: Annotated[float, typer.Option(help="Source-image distance (mm).")] = _GEOMETRY.sid_mm,
        detector_mm: Annotated[
            float, typer.Option(help="Detector side (mm); x SAD/SID is the field of view.")
        ] = _GEOMETRY.detector_mm,
        pixels: Annotated[int, typer.Option(help="Radiograph side (pixels).")] = _GEOMETRY.pixels,
    ) -> None:
        root = _required(inspect_dir, "--inspect", inspect_builder.LAYOUTS)
        geometry = DrrGeometry(sad_mm=sad, sid_mm=sid, detector_mm=detector_mm, pixels=pixels)
        with _progress() as progress:
            manifest = inspect_builder.build_inspect(
                task,
                root,
                _out(ctx, out, task),
                volumes=volumes,
                drr_dir=drr_dir,
                method=drr,
                geometry=geometry,
                workers=workers,
                seed=seed,
                progress=progress,
            )
        _report(manifest)

    command.__doc__ = (
        f"{title} from INSPECT: censored removed, balanced by patients, CT -> AP radiograph "
        "(Plastimatch or NumPy), equalised, JPEG 95; resumable."
    )
    app.command(task)(command)


_inspect_command("12-month-ph", "12-Month PH")
_inspect_command("readmission", "12-month readmission")
_inspect_command("pe", "Pulmonary embolism")
