"""The CLI is a thin face over the library: commands parse, call one library function, print.

Checks that can be read off the source, for every module of ``radsweep.cli``: none imports the
numerical stack or W&B (their work belongs in the library, where it is tested without the CLI),
each stays short enough that no pipeline logic hides in it, and none spells out a model's fields
by hand (``cli.options.model_options`` derives them, so a new field is declared once).
"""

import ast
from pathlib import Path

import pytest

import radsweep.cli

CLI = Path(radsweep.cli.__file__).parent
HEAVY = {"torch", "wandb", "sklearn", "cv2"}
MODULES = sorted(CLI.glob("*.py"))
MAX_LINES = 250
MODELS = {"RunConfig", "SynthConfig", "ScreenOptions"}


def _imported(path: Path) -> set[str]:
    """Top-level packages a module imports, wherever the import statement stands."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


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
def test_no_command_module_imports_the_numerical_stack_or_wandb(path: Path) -> None:
    assert not _imported(path) & HEAVY


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


def test_the_checks_see_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "command.py"
    module.write_text("def run() -> None:\n    import torch.nn\n    from wandb import init\n")
    assert _imported(module) == {"torch", "wandb"}
