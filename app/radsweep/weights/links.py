"""Release sources as the pretrained table records them (a hub id, a page or file link), as links.

Free of registry imports, so the registry itself can name the link when weights are missing.
"""

from dataclasses import dataclass
from enum import StrEnum

from radsweep.errors import WeightsError


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
