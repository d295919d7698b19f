"""The CLI is a thin face over the library: commands parse, call one library function, print.

The command modules of features, bench and demo stay short enough that no pipeline logic hides
in them. That no command module imports the numerical stack or W&B is an import contract
(``cli-thin`` in pyproject.toml, checked by tests/test_architecture.py).
"""

from pathlib import Path

import pytest

import radsweep.cli

CLI = Path(radsweep.cli.__file__).parent
THIN = ("bench.py", "caches.py", "demo.py", "encoders.py", "features.py")
MAX_LINES = 200


@pytest.mark.parametrize("name", THIN)
def test_the_command_modules_stay_short(name: str) -> None:
    lines = (CLI / name).read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"cli/{name} has {lines} lines: move its logic into the library"
