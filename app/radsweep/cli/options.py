"""Options that several commands share, declared once: one name, one metavar, one help text."""

from pathlib import Path
from typing import Annotated

import typer

WEIGHTS_METAVAR = "PATH|HUB_ID"

ResultsDbOption = Annotated[
    Path | None,
    typer.Option(
        "--from",
        help="Results database to read (default: RESULTS/results.sqlite).",
        metavar="RESULTS_DB",
    ),
]
WeightsOption = Annotated[
    str | None,
    typer.Option(
        help="Backbone weights: a local file or folder, a hub id owner/name[@revision], or "
        "random (default: the published release).",
        metavar=WEIGHTS_METAVAR,
    ),
]
TextWeightsOption = Annotated[
    str | None,
    typer.Option(
        help="Text encoder weights: a local folder or a hub id owner/name[@revision] "
        "(default: the published release).",
        metavar=WEIGHTS_METAVAR,
    ),
]
DeviceOption = Annotated[
    str | None,
    typer.Option(
        help="Torch device for extraction and training (default: auto, a CUDA GPU if visible).",
        metavar="auto|cpu|cuda|cuda:N",
    ),
]
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
]
