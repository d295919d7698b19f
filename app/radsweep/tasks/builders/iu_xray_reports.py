"""Open-i (Indiana University chest X-ray) reports: one XML file per study, read in place.

The study id (``uId/@id``) is the patient id: the collection holds one exam per patient. Labels
come from the manual ``MeSH/major`` codes, never from keywords in the text (most mentions of a
finding in these reports are negations). Reports keep FINDINGS and IMPRESSION, IMPRESSION alone
when FINDINGS is missing; every whole token containing the de-identification mark ``XXXX`` is
dropped, so no debris such as ``-year-old`` is left behind.
"""

import re
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from radsweep.tasks.builders.common import SourceError

REPORTS_LAYOUT = "NLMCXR_reports.tgz (or its extracted folder) with ecgen-radiology/<n>.xml"
DEID_MARK = "XXXX"
NORMAL = "normal"
NO_INDEXING = "no indexing"
_SECTIONS = ("findings", "impression")


@dataclass(frozen=True)
class Study:
    """One report: its id, cleaned sections, MeSH major headings and image ids."""

    study_id: str
    findings: str
    impression: str
    major: tuple[str, ...]
    images: tuple[str, ...]

    @property
    def report(self) -> str:
        """FINDINGS and IMPRESSION as the MIMIC builder writes them; empty when neither."""
        parts = [
            f"{name.upper()}: {text}"
            for name, text in zip(_SECTIONS, (self.findings, self.impression), strict=True)
            if text
        ]
        return "\n".join(parts)

    @property
    def headings(self) -> frozenset[str]:
        """The MeSH major headings without their qualifiers, lower case (``Opacity/lung/base``
        is ``opacity``)."""
        return frozenset(term.split("/")[0].strip().lower() for term in self.major)


def clean_text(text: str | None) -> str:
    """Whitespace collapsed and every token that contains ``XXXX`` removed whole.

    A removed token that ended a sentence passes its full stop to the word before it, so
    sentences stay apart (``Lungs are clear x-XXXX.`` becomes ``Lungs are clear.``).
    """
    kept: list[str] = []
    for token in (text or "").split():
        if DEID_MARK not in token:
            kept.append(token)
        elif token.endswith(".") and kept and not kept[-1].endswith((".", ":", ";", ",")):
            kept[-1] += "."
    return " ".join(kept)


def parse_report(data: bytes, where: str) -> Study:
    """One Open-i XML report; an unreadable file or a missing ``uId`` is an error naming it."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise SourceError(f"{where}: not valid XML ({error})", hint=REPORTS_LAYOUT) from error
    uid = root.find(".//uId")
    if uid is None or not uid.get("id", "").strip():
        raise SourceError(f"{where}: no uId/@id", hint=f"expected {REPORTS_LAYOUT}")
    sections = {
        (node.get("Label") or "").strip().lower(): clean_text(node.text)
        for node in root.iter("AbstractText")
    }
    return Study(
        study_id=uid.get("id", "").strip(),
        findings=sections.get("findings", ""),
        impression=sections.get("impression", ""),
        major=tuple((node.text or "").strip() for node in root.iterfind(".//MeSH/major")),
        images=tuple(
            node.get("id", "").strip() for node in root.iter("parentImage") if node.get("id")
        ),
    )


def _xml_members(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.is_dir():
        for file in sorted(path.rglob("*.xml")):
            yield str(file), file.read_bytes()
        return
    try:
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(".xml"):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield f"{path}:{member.name}", handle.read()
    except (tarfile.TarError, OSError, EOFError) as error:
        hint = f"expected {REPORTS_LAYOUT}"
        raise SourceError(f"cannot read {path}: {error}", hint=hint) from error


def read_studies(path: Path) -> list[Study]:
    """Every report in the archive or folder, in study-id order."""
    if not path.exists():
        raise SourceError(f"missing {path}", hint=f"expected {REPORTS_LAYOUT}")
    studies = [parse_report(data, where) for where, data in _xml_members(path)]
    if not studies:
        raise SourceError(f"no XML reports in {path}", hint=f"expected {REPORTS_LAYOUT}")
    ids = [study.study_id for study in studies]
    if len(set(ids)) != len(ids):
        raise SourceError(f"{path}: a study id appears in two reports", hint=REPORTS_LAYOUT)
    return sorted(studies, key=lambda study: natural_key(study.study_id))


def natural_key(text: str) -> tuple[object, ...]:
    """Sort key that puts ``CXR2`` before ``CXR10`` (digit runs compare as numbers)."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))
