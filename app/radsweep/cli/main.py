"""The ``radsweep`` entry point: global options, command groups, and the error boundary."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from radsweep import __version__
from radsweep.cli import bench, data, features, results, sweep, weights
from radsweep.cli.boundary import describe
from radsweep.cli.context import err_console
from radsweep.cli.dashboard import dashboard, sync
from radsweep.cli.demo import demo
from radsweep.cli.doctor import doctor
from radsweep.cli.output import HelpGroup
from radsweep.cli.predict import predict
from radsweep.cli.report import report
from radsweep.cli.screen import screen
from radsweep.cli.train import train

app = typer.Typer(
    name="radsweep",
    cls=HelpGroup,
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
app.add_typer(weights.app, name="weights")
app.command()(train)
app.add_typer(sweep.app, name="sweep")
app.add_typer(results.app, name="results")
app.command()(report)
app.command()(predict)
app.command()(dashboard)
app.command()(sync)
app.add_typer(bench.app, name="bench")
app.command()(demo)
app.command()(doctor)
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
    from radsweep.settings import Settings

    flags = {
        "home": home,
        "data_dir": data_dir,
        "cache_dir": cache_dir,
        "results_dir": results_dir,
        "wandb_dir": wandb_dir,
    }
    ctx.obj = Settings.model_validate({k: v for k, v in flags.items() if v is not None})


def cli(args: list[str] | None = None) -> int:
    """Run radsweep with ``args``; return the exit code. Every failure is one line on stderr:
    exit 2 for what the user can fix, 1 for radsweep's own bugs, 130 for an interrupt."""
    args = sys.argv[1:] if args is None else args
    try:
        app(args=args, prog_name="radsweep")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except (Exception, KeyboardInterrupt) as error:
        if "--debug" in args:
            raise
        failure = describe(error)
        err_console.print(
            f"radsweep: error: {failure.message}", soft_wrap=True, markup=False, highlight=False
        )
        return failure.code
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(cli())
