"""The type checker runs with the suite: mypy on app/ as pyproject.toml's [tool.mypy] sets it.

Nothing else checks the annotations, so a wrong one would otherwise only show when the code runs.
The lazy packages' ``TYPE_CHECKING`` imports are what mypy and editors see of their names: they
must list exactly what ``__getattr__`` serves, from the same modules.
"""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean_on_the_package() -> None:
    """Incremental: the first run fills ``.mypy_cache`` (git-ignored), later runs reuse it."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _type_checking_imports(module: str) -> dict[str, str]:
    """Name to home module of every ``from X import name`` under ``if TYPE_CHECKING:``."""
    source = Path(importlib.import_module(module).__file__ or "").read_text()
    homes: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module
                homes |= {alias.name: statement.module for alias in statement.names}
    return homes


@pytest.mark.parametrize(
    ("package", "table", "prefix"),
    [
        ("radsweep.training", "_EXPORTS", ""),
        ("radsweep.encoders", "_HOMES", "radsweep.encoders."),
    ],
)
def test_lazy_exports_are_mirrored_for_type_checkers(package: str, table: str, prefix: str) -> None:
    module = importlib.import_module(package)
    served = {name: prefix + home for name, home in vars(module)[table].items()}
    assert _type_checking_imports(package) == served
    assert sorted(module.__all__) == sorted(served)
