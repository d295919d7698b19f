"""``radsweep features encoders``: the registered encoders as a table (or JSON)."""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from radsweep.cli.context import console
from radsweep.cli.options import JsonFlag
from radsweep.cli.output import print_json

if TYPE_CHECKING:
    from radsweep.encoders import EncoderInfo


def encoders(
    kind: Annotated[
        str | None, typer.Option(help="Only image or only text encoders.", metavar="image|text")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the registered encoders: architecture, tokens, default weights, licence.

    Example: radsweep features encoders --kind text
    """
    # Imported here so that `radsweep --help` does not pay for torch.
    from radsweep.encoders import EncoderKind, encoder_variants, list_encoders
    from radsweep.encoders.pretrained import pretrained
    from radsweep.errors import RadsweepError

    if kind is not None and kind not in set(EncoderKind):
        raise RadsweepError(f"unknown encoder kind {kind!r}", hint="use 'image' or 'text'")
    kinds = [EncoderKind(kind)] if kind else list(EncoderKind)
    if as_json:
        infos = [info for each in kinds for info in list_encoders(each)]
        print_json(
            [
                info.model_dump(mode="json")
                | {
                    "variants": list(encoder_variants(info.name, info.kind)),
                    "display": pretrained(info.name, info.kind.value).display,
                    "citation": pretrained(info.name, info.kind.value).citation,
                }
                for info in infos
            ]
        )
        return
    for each in kinds:
        console.print(_table(each, list_encoders(each)))
    console.print(
        "Grids at the paper's input size; text tokens: up to 256 per report by default. "
        "Variants: the first is the default. Weights: a checkpoint file or folder, or a hub id "
        "owner/name(@revision).",
        markup=False,
    )


def _table(kind: str, infos: "list[EncoderInfo]") -> Table:
    from radsweep.encoders import encoder_variants

    image = kind == "image"
    table = Table(title=f"{kind} encoders", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("architecture")
    if image:
        for column in ("input", "grid", "CLS"):
            table.add_column(column, no_wrap=True)
    table.add_column("dim", no_wrap=True)
    table.add_column("default weights", overflow="fold", ratio=2)
    table.add_column("licence", ratio=1)
    for info in infos:
        variants = encoder_variants(info.name, info.kind)
        name = info.name + "".join(f"\n {variant}" for variant in variants)
        layout = []
        if image and info.grid is not None:
            grid = f"{info.grid[0]}x{info.grid[1]}"
            layout = [str(info.input_size), grid, "yes" if info.has_cls else "no"]
        table.add_row(
            name, info.architecture, *layout, str(info.dim), info.default_weights, info.licence
        )
    return table
