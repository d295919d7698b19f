"""``radsweep doctor``: one screen that says whether this machine is ready for the study."""

from typing import Annotated

import typer

from radsweep.cli.boundary import USER_ERROR
from radsweep.cli.context import console, settings
from radsweep.cli.options import JsonFlag
from radsweep.cli.output import print_json


def doctor(
    ctx: typer.Context,
    specs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Specs to check the disk for (default: the specs whose tasks are built here, "
            "else the demo).",
            metavar="SPEC",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=0.5, help="Seconds to wait for the W&B server and the hub.")
    ] = 5.0,
    as_json: JsonFlag = False,
) -> None:
    """Check torch and CUDA, W&B, the hub, every encoder's weights, built tasks and disk.

    Each line is ok, warn or FAIL, with the fix on the same line; exit code 2 when something
    blocks the study. W&B is the server W&B itself uses (WANDB_BASE_URL, else `wandb login
    --host`); the hub is probed, so an unreachable one reads "offline".

    Example: radsweep doctor fig2-age --json
    """
    from dataclasses import asdict

    from radsweep.doctor import blocked, examine

    checks = examine(settings(ctx), timeout, specs or [])
    if as_json:
        print_json({"blocked": blocked(checks), "checks": [asdict(check) for check in checks]})
    else:
        for check in checks:
            console.print(check.line(), markup=False, highlight=False, soft_wrap=True)
    if blocked(checks):
        raise typer.Exit(USER_ERROR)
