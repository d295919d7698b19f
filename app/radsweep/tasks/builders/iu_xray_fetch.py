"""Download the two IU X-ray archives from the publisher, resumable and verified.

The same downloader as ``radsweep weights fetch`` (``radsweep.weights.download``): a ``.part``
file resumes where it stopped and the archive appears only once complete and verified. The
publisher lists no checksums, so an archive with no SHA-256 in ``ARCHIVES`` is verified against
the one recorded in ``SHA256SUMS`` beside it by the first download (a later fetch, or a copy
moved to another machine, is checked against it); pass ``sha256`` to pin a known value.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from radsweep.atomic import write_text_atomic
from radsweep.errors import RadsweepError, WeightsError
from radsweep.weights.download import download, file_sha256

LICENCE = (
    "Indiana University chest X-ray collection (Open-i, U.S. National Library of Medicine): "
    "licensed CC BY-NC-ND 4.0 (https://creativecommons.org/licenses/by-nc-nd/4.0/): "
    "non-commercial use, attribution, no redistribution of modified copies. radsweep ships no "
    "part of it."
)
PUBLISHER = "https://openi.nlm.nih.gov/imgs/collections/"
SUMS_FILE = "SHA256SUMS"


@dataclass(frozen=True)
class Archive:
    """One published archive: the builder option it feeds, its file name, link and checksum."""

    role: str
    file: str
    url: str
    sha256: str | None = None


ARCHIVES: tuple[Archive, ...] = (
    Archive("reports", "NLMCXR_reports.tgz", f"{PUBLISHER}NLMCXR_reports.tgz"),
    Archive("images", "NLMCXR_png.tgz", f"{PUBLISHER}NLMCXR_png.tgz"),
)


@dataclass(frozen=True)
class Fetched:
    """One archive on disk and its SHA-256."""

    role: str
    path: Path
    sha256: str
    downloaded: bool


def _sums(folder: Path) -> dict[str, str]:
    file = folder / SUMS_FILE
    if not file.is_file():
        return {}
    pairs = (line.split(maxsplit=1) for line in file.read_text().splitlines() if line.strip())
    return {name.strip().lstrip("*"): digest for digest, name in pairs}


def _record(folder: Path, name: str, digest: str) -> None:
    sums = {**_sums(folder), name: digest}
    text = "".join(f"{value}  {key}\n" for key, value in sorted(sums.items()))
    write_text_atomic(folder / SUMS_FILE, text)


def _source(archive: Archive, mirror: str | None) -> str:
    if mirror is None:
        return archive.url
    return f"{mirror.rstrip('/')}/{archive.file}"


def fetch_iu_xray(
    folder: Path, mirror: str | None = None, sha256: Mapping[str, str] | None = None
) -> list[Fetched]:
    """Both archives in ``folder``: downloaded (or resumed) unless present, then verified.

    ``mirror`` replaces the publisher's folder (``file://`` or ``http(s)://``); ``sha256`` maps
    a role (reports, images) to the expected digest.
    """
    pinned = dict(sha256 or {})
    unknown = set(pinned) - {archive.role for archive in ARCHIVES}
    if unknown:
        named = ", ".join(sorted(unknown))
        raise RadsweepError(f"no archive named {named}", hint="reports or images")
    fetched = []
    for archive in ARCHIVES:
        target = folder / archive.file
        expected = pinned.get(archive.role) or archive.sha256 or _sums(folder).get(archive.file)
        if target.is_file():
            digest = file_sha256(target)
            if expected is not None and digest != expected:
                raise WeightsError(
                    f"{target} has SHA-256 {digest[:12]}…, expected {expected[:12]}…",
                    hint="delete it and fetch again (the copy is corrupt or a different release)",
                )
            fetched.append(Fetched(archive.role, target, digest, downloaded=False))
        else:
            digest = download(_source(archive, mirror), target, expected)
            fetched.append(Fetched(archive.role, target, digest, downloaded=True))
        _record(folder, archive.file, digest)
    return fetched
