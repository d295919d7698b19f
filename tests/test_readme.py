"""The README is the front door: its set-up commands are exactly what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = _setup_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert "radsweep demo" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_commands_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in _setup_commands():
        assert any(line.strip().startswith(command) for line in ci), command


GAINS = ("distill - image", "self-distill - image", "distill - self-distill")
MINUS = "\u2212"  # the README typesets minus signs


def readme_findings() -> list[dict[str, str]]:
    """The tour's findings table: one dict per row, keyed by its header, minus signs as '-'."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip().replace(MINUS, "-") for cell in lines[0].strip("|").split("|")]
    return [
        dict(
            zip(
                header,
                (c.strip().replace(MINUS, "-") for c in line.strip("|").split("|")),
                strict=True,
            )
        )
        for line in lines[2:]
    ]


def shown(mean: float, low: float, high: float) -> str:
    """A gain as the demo prints it and the README quotes it."""
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"
