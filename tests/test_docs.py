"""The README and docs/ are run by people as written: every command in them must still parse,
every relative link must lead to a file, and no product file may point outside the product."""

import re
import shlex
from pathlib import Path
from typing import Any

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
    assert {"bench synth", "train --task", "report demo", "sweep local", "results ls"} <= shown
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


INLINE = re.compile(r"`(radsweep [^`]+)`")
TOP_LEVEL = sorted(typer.main.get_command(app).list_commands(None))  # type: ignore[attr-defined, arg-type]
# A command in prose without its program name: `sweep local --workers N`.
BARE = re.compile(rf"`((?:{'|'.join(TOP_LEVEL)}) [^`]*--[^`]+)`")
PLACEHOLDER = re.compile(r"<[^>]+>|[A-Z][A-Z0-9_./|-]*(\.\.\.)?|\[.*\]|\.\.\.")


def _inline_words(text: str) -> list[str]:
    """The words of ``radsweep ...`` in prose: a placeholder (``TASK``, ``SPEC...``, ``[--all]``)
    is dropped, or stands as ``x`` where it is an option's value."""
    words: list[str] = []
    for word in shlex.split(text.replace("[", " ").replace("]", " "))[1:]:
        if not PLACEHOLDER.fullmatch(word):
            words.append(word)
        elif words and words[-1].startswith("--"):
            words.append("x")
    return words


def _inline_commands() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        spans = [*INLINE.findall(text), *(f"radsweep {bare}" for bare in BARE.findall(text))]
        found += [(page.relative_to(ROOT).as_posix(), _inline_words(span)) for span in spans]
    return found


INLINE_DOCUMENTED = _inline_commands()


def unknown_options(args: list[str]) -> list[str]:
    """The options in ``radsweep ARGS`` that the command they follow does not have, read off the
    live CLI's click objects (so commands and flags added later count); an unknown command is
    reported too. Values are not needed: a placeholder stands for them."""
    command: Any = typer.main.get_command(app)
    context = command.context_class(command, info_name="radsweep")
    takes_value = False
    problems = []
    for word in args:
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            params = {o: p for p in command.params for o in [*p.opts, *p.secondary_opts]}
            if name not in params and name != "--help":
                problems.append(f"{' '.join(context.command_path.split()[1:])} has no {name}")
            param = params.get(name)
            takes_value = param is not None and not param.is_flag and "=" not in word
        elif takes_value:
            takes_value = False  # the option's value
        elif isinstance(command, TyperGroup):
            found = command.get_command(context, word)
            if found is None:
                return [*problems, f"no command {word!r}"]
            command, context = found, found.context_class(found, info_name=word, parent=context)
    return problems


@pytest.mark.parametrize(
    ("page", "args"), INLINE_DOCUMENTED, ids=[" ".join(args) for _, args in INLINE_DOCUMENTED]
)
def test_every_command_in_prose_names_real_options(page: str, args: list[str]) -> None:
    problems = unknown_options(args)
    assert not problems, f"{page}: radsweep {' '.join(args)}: {'; '.join(problems)}"


def test_a_made_up_flag_or_command_in_prose_fails() -> None:
    made_up = _inline_words("radsweep weights fetch NAME --weights PATH")
    assert unknown_options(made_up) == ["weights fetch has no --weights"]
    assert unknown_options(_inline_words("radsweep sweep lokal SPEC")) == ["no command 'lokal'"]
    assert unknown_options(_inline_words("radsweep --home DIR sweep local SPEC [--device]")) == []
    assert unknown_options(["report", "--db", "x"]) == ["report has no --db"]


# Flags of other programs that the docs name in prose, with the program that has them.
OTHER_PROGRAMS = {
    "--build-arg": "docker build",
    "--forward-signals": "wandb agent",
    "--term-timeout": "wandb agent",
    "--array": "sbatch",
    "--signal": "sbatch",
    "--requeue": "sbatch",
    "--open-mode": "sbatch",
}


def test_every_flag_in_prose_is_an_option_of_radsweep() -> None:
    """A flag quoted on its own (`--skip-bad`) is an option of some radsweep command, walked
    from the live CLI (lazily loaded groups included)."""

    def options(command: Any, context: Any) -> set[str]:
        names = {o for p in command.params for o in [*p.opts, *p.secondary_opts]}
        if isinstance(command, TyperGroup):
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                names |= options(sub, sub.context_class(sub, info_name=name, parent=context))
        return names

    root: Any = typer.main.get_command(app)
    known = options(root, root.context_class(root)) | {"--help"} | set(OTHER_PROGRAMS)
    quoted = {
        (page.relative_to(ROOT).as_posix(), flag)
        for page in PAGES
        for flag in re.findall(r"`(--[a-z][a-z0-9-]*)", page.read_text(encoding="utf-8"))
    }
    assert len(quoted) > 50
    assert sorted((page, flag) for page, flag in quoted if flag not in known) == []


def test_no_page_runs_radsweep_twice() -> None:
    """``docker compose run SERVICE radsweep demo`` when the image's entrypoint is radsweep."""
    for page in [*PAGES, *sorted((ROOT / "docker").glob("*"))]:
        assert "radsweep radsweep" not in page.read_text(encoding="utf-8"), page.name


DASH = "\N{EN DASH}"
SPEC_ROW = re.compile(rf"^\|(.*?)\|.*\|\s*([\d{DASH}, ]+)(?: each)?\s*\|$", flags=re.M)


def test_the_spec_tables_run_counts_come_from_the_specs() -> None:
    from radsweep.sweeps.spec import packaged_summaries

    runs = {summary.name: summary.runs for summary in packaged_summaries(ROOT / "no-data")}
    checked = 0
    for names, counts in SPEC_ROW.findall((ROOT / "docs" / "sweeps.md").read_text()):
        specs = re.findall(r"`([\w-]+)\.yaml`", names)
        numbers = [int(n) for n in re.findall(r"\d+", counts)]
        if DASH in counts:  # a range over the row's specs
            assert all(min(numbers) <= runs[spec] <= max(numbers) for spec in specs), names
        elif len(specs) == len(numbers):
            assert [runs[spec] for spec in specs] == numbers, names
        checked += len(specs)
    assert checked >= 15


def _spec_runs() -> dict[str, int]:
    from radsweep.sweeps.spec import packaged_summaries

    return {summary.name: summary.runs for summary in packaged_summaries(ROOT / "no-data")}


def test_the_run_count_in_each_spec_header_comes_from_the_spec() -> None:
    """``# ... = 180 runs.`` above a spec's keys is what the spec expands to."""
    runs = _spec_runs()
    quoted = {}
    for path in sorted((ROOT / "sweeps").glob("*.yaml")):
        header = "".join(line for line in path.open() if line.startswith("#"))
        found = re.search(r"(\d[\d,]*) runs\b", header)
        if found:
            quoted[path.stem] = int(found.group(1).replace(",", ""))
    assert len(quoted) >= 20
    assert {name: runs[name] for name in quoted} == quoted


def test_run_counts_quoted_in_the_docs_come_from_the_specs() -> None:
    runs = _spec_runs()
    figure2 = [name for name in runs if name.startswith("fig2-")]
    study = (ROOT / "docs" / "study.md").read_text(encoding="utf-8")
    assert f"Figure 2 ({len(figure2)} specs, {sum(runs[n] for n in figure2)} runs)" in study
    assert f"Figure 3a (MIMIC, {runs['fig3-mimic-5x1200']} runs)" in study
    iu_xray = (ROOT / "docs" / "iu-xray.md").read_text(encoding="utf-8")
    assert f"the five fractions: {runs['iu-xray']} runs" in " ".join(iu_xray.split())
