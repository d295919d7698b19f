"""How commands print, so their output can be read by people and by scripts alike.

* Piped output is never cut: when stdout is not a terminal, tables and lines are laid out at
  their natural width (rich would otherwise squeeze them into 80 columns and fold or cut cells).
* ``--json`` (``options.JsonFlag``): listing and status commands print their rows as JSON.
* ``--help`` shows real metavars: nothing after a flag, ``PATH``, ``INTEGER``, the choices of an
  enum, instead of Python types such as ``<bool>`` or ``<list[str]>``.
"""

import json
import math
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperGroup, TyperOption

from radsweep.errors import did_you_mean

PIPED_WIDTH = 100_000  # wider than any row: rich keeps every cell whole
_METAVARS: dict[type, str] = {int: "INTEGER", float: "NUMBER", str: "TEXT", Path: "PATH"}


def stdout_console() -> Console:
    """A console on stdout: the terminal's width, or unlimited when piped into a file or program."""
    terminal = Console()
    return terminal if terminal.is_terminal else Console(width=PIPED_WIDTH)


def _plain(value: Any) -> Any:
    """JSON-ready: NaN becomes null, paths and enums their text, tuples lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _plain(value.item())
    return value


def print_json(payload: Any) -> None:
    """Write ``payload`` as one JSON document on stdout (strict JSON: no NaN)."""
    sys.stdout.write(json.dumps(_plain(payload), indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


# --- metavars -------------------------------------------------------------------------------------


def _type_label(annotation: Any) -> str:
    if get_origin(annotation) is list:
        return _type_label(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "|".join(str(member.value) for member in annotation)
    if isinstance(annotation, type):
        for kind, label in _METAVARS.items():
            if issubclass(annotation, kind):
                return label
    return "VALUE"


def metavar(param: TyperOption | TyperArgument) -> str:
    """What ``--help`` shows after a parameter: nothing for a flag, else a word for its value."""
    if isinstance(param, TyperOption) and param.is_flag:
        return ""
    if isinstance(param, TyperArgument):
        return param.name.upper() if param.name else "VALUE"
    return _type_label(param.type_descriptor.annotation)


def _commands(group: TyperGroup) -> Iterator[Any]:
    for command in group.commands.values():
        yield command
        if isinstance(command, TyperGroup):
            yield from _commands(command)


def _parameters(command: Any) -> Iterator[Any]:
    yield from command.params
    help_option = command.get_help_option(typer.Context(command, **command.context_settings))
    if help_option is not None:  # built once per command, then reused by --help
        yield help_option


def reflow(text: str) -> str:
    """Docstring paragraphs as single lines, so the help wraps them at the terminal's width
    (rich markup keeps the source's line breaks, which read ragged at 80 columns)."""
    paragraphs = text.strip().split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def _choices(annotation: Any) -> list[str]:
    """The values of an enum annotation (also inside ``X | None``)."""
    for kind in (annotation, *get_args(annotation)):
        if isinstance(kind, type) and issubclass(kind, Enum):
            return [str(member.value) for member in kind]
    return []


def _suggest(param: TyperOption | TyperArgument) -> None:
    """A mistyped choice (``--method distil``) gets a "did you mean" before the choices."""
    choices = _choices(param.type_descriptor.annotation)
    if not choices:
        return
    process = param.process_value

    def suggesting(ctx: Any, value: Any) -> Any:
        try:
            return process(ctx, value)
        except typer.BadParameter as error:
            if isinstance(value, str) and (close := did_you_mean(value, choices)):
                error.message = f"{close.strip()} {error.message}"
            raise

    param.process_value = suggesting  # type: ignore[method-assign]


def _label(command: Any) -> None:
    if isinstance(command.help, str):
        command.help = reflow(command.help)
    for param in _parameters(command):
        if isinstance(param, TyperOption | TyperArgument):
            _suggest(param)
        if param.metavar is None and isinstance(param, TyperOption | TyperArgument):
            param.metavar = metavar(param)
        if isinstance(param, TyperArgument):  # its NAME says it; no Python type beside
            # typer reads this hook per parameter; replacing it on the instance is its use
            param.display_type_rich = _no_type  # type: ignore[method-assign]
            _plain_usage(param)


def label_group(group: TyperGroup) -> None:
    """Give every parameter of ``group`` and its commands, at any depth, a real metavar."""
    _label(group)
    for command in _commands(group):
        _label(command)


class HelpGroup(TyperGroup):
    """The top-level command group: gives every parameter without one a real metavar."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        label_group(self)

    def get_params(self, ctx: Any) -> list[Any]:  # typer's click.Context is private
        """Its own parameters, labelled here: typer adds the completion flags after __init__."""
        _label(self)
        return super().get_params(ctx)


def _no_type(ctx: Any) -> str | None:  # typer's click.Context is private
    return None


def _plain_usage(param: TyperArgument) -> None:
    """Write an argument in the usage line as ``TASK`` or ``[TASK]``: typer writes a required one
    as ``{TASK}``, which reads as a set of choices, and offers no public hook to change it, so
    its one private method is replaced here, on this argument only."""
    name = param.metavar or (param.name or "VALUE").upper()
    word = (name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else "")
    param._usage_display_name = lambda: word  # type: ignore[method-assign]  # noqa: SLF001
