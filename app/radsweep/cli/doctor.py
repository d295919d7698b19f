"""``radsweep doctor``: one screen that says whether this machine is ready for the study."""

import typer

from radsweep.cli.context import console, settings
from radsweep.cli.options import JsonFlag
from radsweep.cli.output import print_json


def doctor(
    ctx: typer.Context,
    timeout: float = typer.Option(5.0, min=0.5, help="Seconds to wait for the W&B server."),
    as_json: JsonFlag = False,
) -> None:
    """Check torch and CUDA, W&B, the hub cache, every encoder's weights, built tasks and disk.

    Each line is ok, warn or FAIL, with the fix on the same line; exit code 1 when something
    blocks the study.

    Example: radsweep doctor --json
    """
    from dataclasses import asdict

    from radsweep.doctor import blocked, examine

    checks = examine(settings(ctx), timeout)
    if as_json:
        print_json({"blocked": blocked(checks), "checks": [asdict(check) for check in checks]})
    else:
        for check in checks:
            console.print(check.line(), markup=False, highlight=False, soft_wrap=True)
    if blocked(checks):
        raise typer.Exit(1)
