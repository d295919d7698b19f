"""The CLI is a thin face over the library: commands parse, call one library function, print.

Two checks that can be read off the source: no command module imports the numerical stack or
W&B (their work belongs in the library, where it is tested without the CLI), and the command
modules of features, bench and demo stay short enough that no pipeline logic hides in them.
"""

import ast
from pathlib import Path

import pytest

import radsweep.cli

CLI = Path(radsweep.cli.__file__).parent
HEAVY = {"torch", "wandb", "sklearn", "cv2"}
THIN = ("bench.py", "caches.py", "demo.py", "encoders.py", "features.py")
MAX_LINES = 200


def _imported(path: Path) -> set[str]:
    """Top-level packages a module imports, wherever the import statement stands."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda path: path.name)
def test_no_command_module_imports_the_numerical_stack_or_wandb(path: Path) -> None:
    assert not _imported(path) & HEAVY


@pytest.mark.parametrize("name", THIN)
def test_the_command_modules_stay_short(name: str) -> None:
    lines = (CLI / name).read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"cli/{name} has {lines} lines: move its logic into the library"


def test_the_checks_see_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "command.py"
    module.write_text("def run() -> None:\n    import torch.nn\n    from wandb import init\n")
    assert _imported(module) == {"torch", "wandb"}
