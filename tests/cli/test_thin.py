"""The CLI is a thin face over the library: commands parse, call one library function, print.

Checks that can be read off the source, for every module of ``radsweep.cli``: each stays short
enough that no pipeline logic hides in it, and none spells out a model's fields by hand
(``cli.options.model_options`` derives them, so a new field is declared once). That no command
module imports the numerical stack or W&B is an import contract (``cli-thin`` in pyproject.toml,
checked by tests/test_architecture.py).
"""

import ast
from pathlib import Path

import pytest

import radsweep.cli

CLI = Path(radsweep.cli.__file__).parent
MODULES = sorted(CLI.glob("*.py"))
MAX_LINES = 250
MODELS = {"RunConfig", "SynthConfig", "ScreenOptions"}


def _spelled_out(path: Path) -> list[str]:
    """Calls of a model that name more than four of its fields one by one (a command may parse
    a few itself, e.g. seeds from ``0-4``)."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in MODELS:
            named = [keyword.arg for keyword in node.keywords if keyword.arg is not None]
            if len(named) > 4:
                calls.append(f"{node.func.id}({', '.join(named)})")
    return calls


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_the_command_modules_stay_short(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"cli/{path.name} has {lines} lines: move its logic into the library"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_command_lists_a_models_fields_by_hand(path: Path) -> None:
    assert not _spelled_out(path), "derive the options with cli.options.model_options"


def test_the_field_check_sees_a_model_spelled_out(tmp_path: Path) -> None:
    module = tmp_path / "command.py"
    module.write_text("def run(t, b):\n    RunConfig(task=t, backbone=b, method=b, lr=1, tau=1)\n")
    assert _spelled_out(module) == ["RunConfig(task, backbone, method, lr, tau)"]
