"""``radsweep features``: the frozen encoders (and, next, the feature cache built with them)."""

from typing import Annotated

import typer
from rich.table import Table

from radsweep.cli.context import console

app = typer.Typer(
    help="Frozen image/text encoders and the feature cache built with them.", no_args_is_help=True
)


@app.command("encoders")
def encoders(
    kind: Annotated[
        str | None, typer.Option(help="Only 'image' or only 'text' encoders.", metavar="KIND")
    ] = None,
) -> None:
    """List the registered encoders: architecture, input, tokens, default weights, licence."""
    # Imported here so that `radsweep --help` does not pay for torch.
    from radsweep.encoders import EncoderKind, encoder_variants, list_encoders
    from radsweep.errors import RadsweepError

    if kind is not None and kind not in set(EncoderKind):
        raise RadsweepError(f"unknown encoder kind {kind!r}", hint="use 'image' or 'text'")
    table = Table(title="radsweep encoders", title_justify="left")
    for column in ("kind", "name", "architecture", "input", "tokens", "dim", "CLS"):
        table.add_column(column, no_wrap=column == "kind")
    table.add_column("default weights", overflow="fold")
    table.add_column("licence")
    for info in list_encoders(EncoderKind(kind) if kind else None):
        variants = encoder_variants(info.name, info.kind)
        name = info.name + (f" ({', '.join(variants)})" if variants else "")
        grid = f"{info.grid[0]}x{info.grid[1]}" if info.grid else "L"
        table.add_row(
            info.kind.value,
            name,
            info.architecture,
            str(info.input_size) if info.input_size else "-",
            grid,
            str(info.dim),
            "yes" if info.has_cls else "no",
            info.default_weights,
            info.licence,
        )
    console.print(table)
    console.print(
        "Tokens at the paper's input size; text: L = max length (default 256). Variants: first "
        "is the default. Weights: a checkpoint file or folder, or a hub id owner/name(@revision).",
        markup=False,
    )
