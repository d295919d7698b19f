"""``--help`` reads well at 80 columns: every option's name whole, real metavars, ``--force``
(never ``--no-force``), and each command's help ends with an example that parses."""

import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from radsweep.cli.lazy import LazyGroup
from radsweep.cli.main import app

ROOT = typer.main.get_command(app)


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(command, TyperGroup):
        group = command.real() if isinstance(command, LazyGroup) else command
        for name in group.list_commands(typer.Context(group)):
            sub = group.get_command(typer.Context(group), name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, (*path, name))
    else:
        yield path, command


COMMANDS = dict(_walk(ROOT, ()))


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_help_fits_80_columns_with_whole_option_names(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert max(len(line) for line in text.splitlines()) <= 80
    for param in COMMANDS[path].params:
        for name in param.opts:
            if name.startswith("--"):
                assert name in text, f"{name} is cut in {' '.join(path)} --help"
    assert "--no-force" not in text
    assert not re.search(r"<[a-z]+(\[\w+\])?>|\{[A-Z]+\}", text)  # <bool>, {TASK}: no real metavar


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_each_command_shows_one_example_that_parses(path: tuple[str, ...]) -> None:
    examples = re.findall(r"Example: radsweep (.+?)(?:\n\n|$)", COMMANDS[path].help or "")
    assert len(examples) == 1, f"{' '.join(path)}: one example in its help"
    assert parses(shlex.split(examples[0]))


def parses(args: list[str]) -> bool:
    """Whether ``radsweep ARGS`` names a real command with real options (values unchecked:
    ``--help`` is eager, so it runs once every word has been matched to an option)."""
    return CliRunner().invoke(app, [*args, "--help"]).exit_code == 0


def test_a_made_up_option_does_not_parse() -> None:
    assert not parses(["weights", "fetch", "rad-dino", "--weights", "x"])
