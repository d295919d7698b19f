"""``RADSWEEP_HOME/weights.yaml``: encoder name -> local file or folder, SHA-256 and source.

Every path that builds an encoder (train, features extract, sweeps, agents) asks this file for
weights the caller did not name, so a sweep spec never needs a per-backbone flag. The file is
plain YAML so it can be written by hand, shared within a lab, or mounted into a container
(``RADSWEEP_WEIGHTS_FILE`` points elsewhere). Relative paths resolve against the file's folder.
"""

import os
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from radsweep.atomic import write_text_atomic
from radsweep.errors import WeightsError
from radsweep.settings import Settings

CATALOGUE_NAME = "weights.yaml"
ENV_FILE = "RADSWEEP_WEIGHTS_FILE"
SHA256_HEX = r"^[0-9a-f]{64}$"


class WeightsEntry(BaseModel):
    """One encoder's weights: where they are, what they hash to, where they came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    sha256: str | None = Field(default=None, pattern=SHA256_HEX)
    source: str | None = None  # overrides the published source (a lab mirror, say)


class Catalogue(BaseModel):
    """The whole file: one mapping per encoder kind (``biovil-t`` is both)."""

    model_config = ConfigDict(extra="forbid")

    image: dict[str, WeightsEntry] = {}
    text: dict[str, WeightsEntry] = {}

    def entries(self, kind: str) -> dict[str, WeightsEntry]:
        """``kind`` is an ``EncoderKind`` (a str): the encoder package imports this module."""
        return self.image if kind == "image" else self.text


class Status(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    CORRUPT = "corrupt"
    INSTALLED = "installed"  # the weights come with an installed package (MiniLM)


def catalogue_file(settings: Settings | None = None) -> Path:
    """Where the catalogue lives: ``RADSWEEP_WEIGHTS_FILE``, else ``HOME/weights.yaml``."""
    override = os.environ.get(ENV_FILE)
    if override:
        return Path(override).expanduser()
    return (settings or Settings()).home.expanduser() / CATALOGUE_NAME


def load_catalogue(file: Path) -> Catalogue:
    """The catalogue at ``file`` (empty when there is none yet), strictly validated."""
    if not file.is_file():
        return Catalogue()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        return Catalogue.model_validate(raw)
    except yaml.YAMLError as error:
        raise WeightsError(f"{file}: not valid YAML", hint="fix or delete the file") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise WeightsError(
            f"{file}: {where}: {first['msg']}",
            hint="each entry is image|text: NAME: {path, sha256 (64 hex), source}",
        ) from error


def save_catalogue(catalogue: Catalogue, file: Path) -> None:
    """Write the catalogue atomically: a crash never leaves half a file."""
    data = catalogue.model_dump(mode="json", exclude_none=True)
    text = yaml.safe_dump(data, sort_keys=True)
    write_text_atomic(file, f"# radsweep weights catalogue: see `radsweep weights`\n{text}")


def entry_path(entry: WeightsEntry, file: Path) -> Path:
    """The entry's path, relative ones read against the catalogue's own folder."""
    path = entry.path.expanduser()
    return path if path.is_absolute() else file.parent / path


def lookup(kind: str, name: str, file: Path | None = None) -> WeightsEntry | None:
    """The catalogued entry for one encoder, or None when the catalogue does not list it."""
    file = file or catalogue_file()
    return load_catalogue(file).entries(kind).get(name)


def catalogued_weights(kind: str, name: str, file: Path | None = None) -> Path | None:
    """The local weights to load for an encoder the caller gave no weights for.

    A listed entry whose file is gone fails here, naming the fix, instead of silently falling
    back to a download or random weights.
    """
    file = file or catalogue_file()
    entry = lookup(kind, name, file)
    if entry is None:
        return None
    path = entry_path(entry, file)
    if not path.exists():
        raise WeightsError(
            f"{kind} encoder {name}: catalogued weights {path} are missing",
            hint=f"run `radsweep weights fetch {name}` or fix the path in {file}",
        )
    return path


def check_identity(kind: str, name: str, identity: str, file: Path | None = None) -> None:
    """Fail when loaded weights do not hash to the catalogued SHA-256 (a corrupt copy)."""
    file = file or catalogue_file()
    entry = lookup(kind, name, file)
    if entry is None or entry.sha256 is None:
        return
    if identity != f"sha256:{entry.sha256}":
        raise WeightsError(
            f"{kind} encoder {name}: weights at {entry_path(entry, file)} do not match the "
            f"catalogued SHA-256 {entry.sha256[:12]}…",
            hint=f"the copy is corrupt: run `radsweep weights fetch {name} --force`",
        )
