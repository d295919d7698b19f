"""Where each encoder's weights are published, as a link a user can open or a client can fetch.

The pretrained table (``radsweep.encoders.pretrained``) records each release as its authors
published it: a hub id, or the page or file link; ``published_source`` turns a record into a
``Source`` that says how it can be fetched.
"""

from dataclasses import dataclass
from enum import StrEnum

from radsweep.encoders.base import EncoderInfo, EncoderKind
from radsweep.encoders.registry import list_encoders
from radsweep.errors import RadsweepError


class SourceKind(StrEnum):
    HUB = "hub"  # a Hugging Face repository: its client downloads, resumes and verifies
    URL = "url"  # a plain http(s):// or file:// link: fetched with resume
    PAGE = "page"  # a page only a browser gets through (Drive, Box): fetched by hand
    PACKAGE = "package"  # installed with radsweep itself (PyPI)
    NONE = "none"  # nothing to fetch (parameter-free encoders)


@dataclass(frozen=True)
class Source:
    """A published source: its kind, the exact link, and the hub id where there is one."""

    kind: SourceKind
    url: str
    repo_id: str | None = None


def published_source(kind: EncoderKind, name: str) -> Source:
    """The source the original authors published for one encoder's weights."""
    return parse_source(_info(kind, name).default_weights)


def parse_source(text: str) -> Source:
    """A source as written in a catalogue or registry entry, turned into a link."""
    if text.startswith("hf:"):
        repo = text.removeprefix("hf:")
        return Source(SourceKind.HUB, f"https://huggingface.co/{repo}", repo)
    if text.startswith(("http://", "https://", "file://")):
        page = any(host in text for host in ("drive.google.com", "box.com"))
        return Source(SourceKind.PAGE if page else SourceKind.URL, text)
    if text.startswith("PyPI "):
        package = text.removeprefix("PyPI ").strip()
        return Source(SourceKind.PACKAGE, f"https://pypi.org/project/{package}/")
    return Source(SourceKind.NONE, text)


def weighted_encoders() -> list[EncoderInfo]:
    """Every registered encoder that loads published weights (image encoders first)."""
    return [
        info
        for info in list_encoders()
        if parse_source(info.default_weights).kind is not SourceKind.NONE
    ]


def _info(kind: EncoderKind, name: str) -> EncoderInfo:
    for info in list_encoders(kind):
        if info.name == name:
            return info
    known = ", ".join(info.name for info in list_encoders(kind))
    raise RadsweepError(f"unknown {kind} encoder {name!r}", hint=f"choose one of: {known}")
