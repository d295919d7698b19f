"""The README and docs/ are run by people as written: every command in them must still parse,
every relative link must lead to a file, and no product file may point outside the product."""

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from radsweep.cli.main import app

# click's UsageError, wherever this typer keeps click (newer typers vendor it): bad options,
# bad values and missing arguments all raise it.
UsageError = typer.BadParameter.__base__

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^[ \t]*```(\w*)[ \t]*\n(.*?)^[ \t]*```", flags=re.S | re.M)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
SHELL_OPERATORS = {"&&", "||", "|", ";", "&"}

# What the docs write for "put yours here", and a value of the right kind for each.
PLACEHOLDERS = {
    "<TASK>": "synth-age",
    "<SPEC>": "sweeps/demo.yaml",
    "<DIR>": "/tmp/radsweep-docs",
    "DIR": "/tmp/radsweep-docs",
    "TASK": "synth-age",
    "SPEC": "sweeps/demo.yaml",
    "N": "2",
    "FRACTION": "0.1",
    "SEED": "0",
}


def _bash_blocks(page: Path) -> list[tuple[str, str]]:
    return FENCE.findall(page.read_text(encoding="utf-8"))


def _radsweep_commands(block: str) -> list[list[str]]:
    """Each ``radsweep ...`` invocation in a shell block, as its argument list (comments,
    pipes and chained commands split off, line continuations joined)."""
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        words = [PLACEHOLDERS.get(word, word) for word in lexer]
        command: list[str] = []
        for word in [*words, ";"]:
            if word in SHELL_OPERATORS:
                if command[:1] == ["radsweep"]:
                    commands.append(command[1:])
                command = []
            else:
                command.append(word)
    return commands


def _documented() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        for language, block in _bash_blocks(page):
            if language in {"bash", "sh", "shell"}:
                name = page.relative_to(ROOT).as_posix()
                found += [(name, args) for args in _radsweep_commands(block)]
    return found


def parse(args: list[str]) -> typer.Context:
    """Parse ``radsweep ARGS`` down to the leaf command without running it."""
    command = typer.main.get_command(app)
    context = command.make_context("radsweep", list(args))
    while isinstance(command, TyperGroup):
        # the subcommand's name is held back from args (click < 8.2 names it protected_args)
        held = getattr(context, "_protected_args", None) or getattr(context, "protected_args", [])
        words = [*held, *context.args]
        if not words and command.invoke_without_command:
            break  # a group that is a command too (radsweep weights)
        if not words:
            context.fail("Missing command.")
        name, command, rest = command.resolve_command(context, words)
        assert name is not None and command is not None
        context = command.make_context(name, rest, parent=context)
    return context


DOCUMENTED = _documented()


def test_the_readme_shows_the_main_commands() -> None:
    shown = {" ".join(args[:2]) for page, args in DOCUMENTED if page == "README.md"}
    assert {"demo", "data tasks", "data splits", "data validate", "data synth"} <= shown
    assert {"bench synth", "train --task", "report --out", "sweep local", "results ls"} <= shown
    assert len(DOCUMENTED) > 40


@pytest.mark.parametrize(
    ("page", "args"), DOCUMENTED, ids=[" ".join(args) for _, args in DOCUMENTED]
)
def test_every_documented_command_parses(page: str, args: list[str]) -> None:
    try:
        parse(args)
    except UsageError as error:
        pytest.fail(f"{page}: radsweep {' '.join(args)}: {error.format_message()}")


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--no-such-option"],
        ["train", "--fraction", "a-tenth"],
        ["data", "validate"],
        ["sweep", "no-such-command"],
        ["sweep", "local", "demo", "--workers", "0"],
    ],
)
def test_parse_rejects_what_the_shell_would(args: list[str]) -> None:
    with pytest.raises(UsageError):
        parse(args)


def test_placeholders_are_replaced() -> None:
    assert _radsweep_commands("radsweep data validate DIR  # check it | not this\n") == [
        ["data", "validate", "/tmp/radsweep-docs"]
    ]
    assert _radsweep_commands('pip install -e ".[dev]" && radsweep demo | tee log\n') == [["demo"]]


def test_commands_are_in_shell_blocks() -> None:
    """A command in an unmarked block would escape the parse test above."""
    for page in PAGES:
        for language, block in _bash_blocks(page):
            starts = [line for line in block.splitlines() if line.lstrip().startswith("radsweep ")]
            assert language in {"bash", "sh", "shell"} or not starts, (page.name, starts)


def test_relative_links_lead_to_files() -> None:
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z+.-]*:|#", target):
                continue  # a web address, mail, or an anchor on the same page
            path = (page.parent / target.split("#", 1)[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken


def test_no_product_file_points_outside_the_product() -> None:
    """The product is read on its own: paths into the workspace it was built in mean nothing."""
    outside = re.compile(r"(?<![\w.-])" + "shared" + r"/")
    files = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for folder in ("app", "docs", "tests", "sweeps", "docker"):
        files += [path for path in (ROOT / folder).rglob("*") if path.is_file()]
    offenders = []
    for path in files:
        if path.suffix in {".png", ".jpg", ".pyc", ".parquet", ".npy"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        offenders += [f"{path.relative_to(ROOT)}" for _ in outside.finditer(text)][:1]
    assert not offenders
