"""The ``radsweep`` entry point: global options, command groups, and user-error handling."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from radsweep import __version__
from radsweep.cli import bench, data, features, results, sweep
from radsweep.cli.context import err_console
from radsweep.cli.demo import demo
from radsweep.cli.report import report
from radsweep.cli.screen import screen
from radsweep.cli.train import train
from radsweep.errors import RadsweepError
from radsweep.settings import Settings

app = typer.Typer(
    name="radsweep",
    help=(
        "When do radiology reports help train image classifiers? radsweep builds tasks, caches "
        "frozen-backbone features, sweeps backbone x task x training fraction x τ x λ with "
        "Weights & Biases (or offline), and reports the study's figures."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(data.app, name="data")
app.add_typer(features.app, name="features")
app.command()(train)
app.add_typer(sweep.app, name="sweep")
app.add_typer(results.app, name="results")
app.command()(report)
app.add_typer(bench.app, name="bench")
app.command()(demo)
app.command()(screen)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"radsweep {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(help="radsweep's home folder (env RADSWEEP_HOME, default ~/.radsweep)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Datasets and manifests (env RADSWEEP_DATA_DIR, default HOME/data)."),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Feature caches (env RADSWEEP_CACHE_DIR, default HOME/cache)."),
    ] = None,
    results_dir: Annotated[
        Path | None,
        typer.Option(help="Results store (env RADSWEEP_RESULTS_DIR, default HOME/results)."),
    ] = None,
    wandb_dir: Annotated[
        Path | None, typer.Option(help="W&B files (env RADSWEEP_WANDB_DIR, default HOME/wandb).")
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks for errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options; they apply to every command."""
    flags = {
        "home": home,
        "data_dir": data_dir,
        "cache_dir": cache_dir,
        "results_dir": results_dir,
        "wandb_dir": wandb_dir,
    }
    ctx.obj = Settings(**{name: value for name, value in flags.items() if value is not None})


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"invalid {where}: {first['msg']}"


def cli(args: list[str] | None = None) -> int:
    """Run radsweep with ``args``; return the exit code. User errors are one line, exit code 2."""
    args = sys.argv[1:] if args is None else args
    debug = "--debug" in args
    try:
        app(args=args, prog_name="radsweep")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except (RadsweepError, ValidationError) as error:
        if debug:
            raise
        message = (
            error.one_line()
            if isinstance(error, RadsweepError)
            else f"{_one_line(error)} — see --help"
        )
        err_console.print(
            f"radsweep: error: {message}", soft_wrap=True, markup=False, highlight=False
        )
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(cli())
