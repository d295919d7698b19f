"""The image and compose files as tests read them: no container engine runs in CI."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dockerfile
import yaml

ROOT = Path(__file__).parents[2]
DOCKER = ROOT / "docker"
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")

_ARG_REFERENCE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class Image:
    """The Dockerfile's instructions with build arguments resolved to their defaults."""

    commands: tuple[dockerfile.Command, ...]
    args: dict[str, str]

    def expand(self, text: str) -> str:
        """``${NAME}`` / ``$NAME`` replaced by the ARG default, as a plain ``docker build`` does."""
        return _ARG_REFERENCE.sub(lambda m: self.args[m.group(1) or m.group(2)], text)

    def all(self, instruction: str) -> list[dockerfile.Command]:
        return [command for command in self.commands if command.cmd == instruction]

    def index(self, instruction: str) -> int:
        """Position of the last such instruction (the one in force)."""
        positions = [i for i, command in enumerate(self.commands) if command.cmd == instruction]
        assert positions, f"no {instruction} in the Dockerfile"
        return positions[-1]

    @property
    def env(self) -> dict[str, str]:
        values = [value for command in self.all("ENV") for value in command.value]
        return dict(zip(values[::2], (v.strip("\"'") for v in values[1::2]), strict=True))

    @property
    def volumes(self) -> set[str]:
        return {path for command in self.all("VOLUME") for path in command.value}


def load_image() -> Image:
    """docker/Dockerfile through BuildKit's own parser, which the ``dockerfile`` wheel wraps."""
    commands = dockerfile.parse_file(str(DOCKER / "Dockerfile"))
    args: dict[str, str] = {}
    for command in commands:
        if command.cmd == "ARG":
            for declaration in command.value:
                name, _, default = declaration.partition("=")
                args[name] = default
    return Image(commands=commands, args=args)


def load_compose() -> dict[str, Any]:
    """compose.yaml as docker compose sees it before interpolation (YAML merge keys resolved)."""
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())
