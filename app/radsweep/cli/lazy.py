"""Command groups loaded on first use, so ``radsweep --help`` imports only what it shows.

A group whose options need heavy modules at definition time (``data build`` needs the DRR
geometry and the MIMIC builders' enums, which pull in pandas, nibabel and OpenCV) is declared
by its module path and one-line help: the parent's help lists it from that line alone, and the
module is imported only when the group itself is run or asked for its help.
"""

from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup


class LazyGroup(TyperGroup):
    """A stand-in for ``module:app`` that imports it when a subcommand or the help is needed.

    Its overrides take click's context untyped: typer vendors click, and its context class is
    not public."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name=name, help=help, no_args_is_help=True)
        self.target = target
        self._real: TyperGroup | None = None

    def real(self) -> TyperGroup:
        """The group built from the module's typer app, imported once."""
        if self._real is None:
            module, _, attribute = self.target.partition(":")
            app: typer.Typer = getattr(import_module(module), attribute or "app")
            group = typer.main.get_group(app)  # a subgroup: no completion options
            from radsweep.cli.output import label_group

            label_group(group)
            group.help = group.help or self.help
            self._real = group
        return self._real

    def list_commands(self, ctx: Any) -> list[str]:
        """The real group's subcommands."""
        return self.real().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """One subcommand of the real group."""
        return self.real().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The real group's help, under this group's name."""
        self.real().format_help(ctx, formatter)


def lazy_groups(**groups: tuple[str, str]) -> type[TyperGroup]:
    """A ``TyperGroup`` class that adds ``name=(\"module:app\", help)`` groups, loaded lazily."""

    class WithLazyGroups(TyperGroup):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for name, (target, text) in groups.items():
                self.add_command(LazyGroup(name, target, text), name)

    return WithLazyGroups
