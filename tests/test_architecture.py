"""The layer rules of docs/configuration.md, checked by import-linter, not by a reviewer.

``lint-imports`` reads the contracts from pyproject.toml and checks this checkout's package
(every import statement, those inside functions and under ``TYPE_CHECKING`` included). Each
contract is its own test, so a failure names the rule and shows import-linter's report.
"""

import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "app" / "radsweep"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}


@pytest.fixture(scope="module")
def report() -> str:
    """One ``lint-imports`` run over this checkout's ``app/radsweep``, its whole output."""
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    path = os.pathsep.join([str(ROOT / "app"), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [lint, "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert "Analyzed" in output, output  # import-linter ran (a config error stops it earlier)
    return output


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_the_contract_is_kept(report: str, contract: str) -> None:
    name = CONTRACTS[contract]["name"]
    verdicts = [line for line in report.splitlines() if line.startswith(name)]
    assert verdicts and "KEPT" in verdicts[0], report


def _top_level() -> set[str]:
    """Every top-level module and package of radsweep (``specs/`` is data, not a package)."""
    return {module.name for module in pkgutil.iter_modules([str(PACKAGE)])}


def test_every_top_level_module_has_a_layer() -> None:
    """A new module outside the layer list would escape every layer rule."""
    layered = {name.strip() for layer in CONTRACTS["layers"]["layers"] for name in layer.split("|")}
    assert layered == _top_level()


def test_wandb_is_forbidden_everywhere_but_tracking() -> None:
    sources = {name.removeprefix("radsweep.") for name in CONTRACTS["wandb"]["source_modules"]}
    assert sources == _top_level() - {"tracking"}
