"""``radsweep weights``: the weights catalogue (list, fetch with resume, add a downloaded file)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from radsweep.cli.context import console, settings
from radsweep.cli.options import JsonFlag
from radsweep.cli.output import print_json

if TYPE_CHECKING:
    from radsweep.encoders.inventory import WeightsRow

app = typer.Typer(
    help=(
        "The weights catalogue (HOME/weights.yaml, or RADSWEEP_WEIGHTS_FILE): every backbone's "
        "and text encoder's local weights, SHA-256 and published source. Train, extraction and "
        "sweeps load catalogued weights, so specs need no --weights. With no command: list them."
    ),
    invoke_without_command=True,
)

Name = Annotated[str, typer.Argument(help="Encoder name (image first), or image:NAME / text:NAME.")]


@app.callback()
def show(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every encoder's weights: present, missing or corrupt, and the link to get each."""
    if ctx.invoked_subcommand is not None:
        return
    from dataclasses import asdict

    from radsweep.encoders.inventory import inventory
    from radsweep.weights.catalogue import catalogue_file

    file = catalogue_file(settings(ctx))
    rows = inventory(file)
    if as_json:
        print_json({"catalogue": file, "encoders": [asdict(row) for row in rows]})
        return
    for line in _lines(rows, file):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(
        "Get one: `radsweep weights fetch NAME` (plain links and the hub), or download it in a "
        "browser and `radsweep weights add NAME FILE`.",
        markup=False,
    )


@app.command()
def fetch(
    ctx: typer.Context,
    name: Name,
    url: Annotated[
        str | None, typer.Option(help="Fetch from this http(s):// or file:// link instead.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Fetch even if present.")] = False,
) -> None:
    """Download one encoder's weights (resuming a partial download), verify and catalogue them.

    Example: radsweep weights fetch rad-dino
    """
    from radsweep.encoders.inventory import fetch as fetch_weights
    from radsweep.weights.catalogue import catalogue_file

    row = fetch_weights(name, url, force, catalogue_file(settings(ctx)))
    console.print(row.line(), markup=False)


@app.command()
def add(
    ctx: typer.Context,
    name: Name,
    path: Annotated[Path, typer.Argument(help="The downloaded checkpoint file or folder.")],
    source: Annotated[
        str | None, typer.Option(help="Where it came from, if not the published source.")
    ] = None,
) -> None:
    """Catalogue a local file or folder once it loads strictly into the encoder's architecture.

    Example: radsweep weights add rad-dino ~/models/rad-dino
    """
    from radsweep.encoders.inventory import add as add_weights
    from radsweep.weights.catalogue import catalogue_file

    row = add_weights(name, path, source, catalogue_file(settings(ctx)))
    console.print(row.line(), markup=False)


def _lines(rows: "list[WeightsRow]", file: Path) -> list[str]:
    """One line per encoder, links unbroken so they can be copied."""
    lines = [f"weights catalogue: {file}"]
    width = max(len(f"{row.kind}:{row.name}") for row in rows)
    for row in rows:
        where = str(row.path) if row.path else row.source.url
        lines.append(
            f"  {row.kind}:{row.name:<{width - len(row.kind) - 1}}  {row.status!s:<15}  {where}"
        )
    return lines
