"""``radsweep data build iu-xray`` and ``radsweep data fetch iu-xray``: the public IU X-rays."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from radsweep.cli.context import console, settings
from radsweep.cli.sources import progress
from radsweep.errors import RadsweepError
from radsweep.tasks.builders.iu_xray import MIN_POSITIVES

if TYPE_CHECKING:
    from radsweep.tasks.manifest import Manifest

fetch_app = typer.Typer(
    help="Download public datasets (resumable, SHA-256 verified).", no_args_is_help=True
)


def _report(manifest: "Manifest") -> None:
    frame, task = manifest.frame, manifest.task
    counts = frame["label"].value_counts()
    classes = ", ".join(f"{name} {counts.get(i, 0)}" for i, name in enumerate(task.classes))
    console.print(
        f"built {task.name} in {manifest.directory}: {len(frame)} samples; {classes}", markup=False
    )
    dropped = manifest.info.builder.get("counts", {})
    if dropped:
        left_out = ", ".join(f"{reason} {count}" for reason, count in dropped.items())
        console.print(f"studies left out: {left_out}", markup=False)


def build(
    ctx: typer.Context,
    reports: Annotated[
        Path, typer.Option(help="NLMCXR_reports.tgz or its extracted folder.", show_default=False)
    ],
    images: Annotated[
        Path, typer.Option(help="NLMCXR_png.tgz or its extracted folder.", show_default=False)
    ],
    projections: Annotated[
        Path | None,
        typer.Option(
            help="CSV of filename -> projection (Frontal/Lateral), e.g. the Kaggle copy's "
            "indiana_projections.csv. Without it the view comes from an image heuristic."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the task folders (default: DATA).")
    ] = None,
    min_positives: Annotated[
        int, typer.Option(help="Skip a finding task with fewer positive studies.")
    ] = MIN_POSITIVES,
) -> None:
    """IU X-ray (Open-i): iu-normal and finding tasks from MeSH major codes, one frontal image
    per study, read from the archives in place.

    Example: radsweep data build iu-xray --reports NLMCXR_reports.tgz --images NLMCXR_png.tgz
    """
    from radsweep.tasks.builders.iu_xray import build_iu_xray

    for flag, path in (("--reports", reports), ("--images", images)):
        if not path.exists():
            raise RadsweepError(f"{flag} {path} does not exist", hint="radsweep data fetch iu-xray")
    with progress() as advance_on:
        result = build_iu_xray(
            reports,
            images,
            out or settings(ctx).data,
            projections=projections,
            min_positives=min_positives,
            progress=advance_on,
        )
    for manifest in result.manifests:
        _report(manifest)
    for name, why in result.skipped.items():
        console.print(f"skipped {name}: {why}", markup=False)


@fetch_app.command("iu-xray")
def fetch_iu_xray(
    ctx: typer.Context,
    to: Annotated[
        Path | None, typer.Option(help="Download folder (default: DATA/iu-xray-source).")
    ] = None,
    mirror: Annotated[
        str | None, typer.Option(help="Fetch from this folder link instead of the publisher.")
    ] = None,
    sha256_reports: Annotated[str | None, typer.Option(help="Expected SHA-256.")] = None,
    sha256_images: Annotated[str | None, typer.Option(help="Expected SHA-256.")] = None,
) -> None:
    """Download NLMCXR_reports.tgz and NLMCXR_png.tgz (about 1.4 GB), resuming and verifying.

    Example: radsweep data fetch iu-xray --to ~/iu-xray
    """
    from radsweep.tasks.builders import iu_xray_fetch

    console.print(iu_xray_fetch.LICENCE, markup=False, soft_wrap=True)
    folder = to or settings(ctx).data / "iu-xray-source"
    pins = {"reports": sha256_reports, "images": sha256_images}
    fetched = iu_xray_fetch.fetch_iu_xray(
        folder, mirror, {role: value for role, value in pins.items() if value}
    )
    for item in fetched:
        verb = "downloaded" if item.downloaded else "present"
        console.print(f"{item.role}: {verb} {item.path} sha256 {item.sha256}", markup=False)
    reports, images = (item.path for item in fetched)
    console.print(
        f"next: radsweep data build iu-xray --reports {reports} --images {images}", markup=False
    )
