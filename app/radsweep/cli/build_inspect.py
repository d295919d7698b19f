"""``radsweep data build`` for the INSPECT tasks: CT volumes projected to radiographs (DRR)."""

import os
from pathlib import Path
from typing import Annotated

import typer

from radsweep.cli.sources import Out, Seed, out_folder, progress, required, show_built
from radsweep.imaging.drr import DrrGeometry, DrrMethod
from radsweep.tasks.builders import inspect as inspect_builder

_GEOMETRY = DrrGeometry()
_WORKERS = max(1, (os.cpu_count() or 2) // 2)


def _inspect_command(app: typer.Typer, task: str, title: str) -> None:
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
        root = required(inspect_dir, "--inspect", inspect_builder.LAYOUTS)
        geometry = DrrGeometry(sad_mm=sad, sid_mm=sid, detector_mm=detector_mm, pixels=pixels)
        with progress() as step:
            manifest = inspect_builder.build_inspect(
                task,
                root,
                out_folder(ctx, out, task),
                volumes=volumes,
                drr_dir=drr_dir,
                method=drr,
                geometry=geometry,
                workers=workers,
                seed=seed,
                progress=step,
            )
        show_built(manifest)

    command.__doc__ = (
        f"{title} from INSPECT: censored removed, balanced by patients, CT -> AP radiograph "
        "(Plastimatch or NumPy), equalised, JPEG 95; resumable.\n\n"
        f"Example: radsweep data build {task} --inspect ~/inspect"
    )
    app.command(task)(command)


def register(app: typer.Typer) -> None:
    """Add the three INSPECT tasks' commands to the ``data build`` group."""
    _inspect_command(app, "12-month-ph", "12-Month PH")
    _inspect_command(app, "readmission", "12-month readmission")
    _inspect_command(app, "pe", "Pulmonary embolism")
