"""Report sections found the way the official MIMIC-CXR section parser finds them.

The study trains on the IMPRESSION and, when present, FINDINGS of each report. The rules follow
MIT-LCP/mimic-cxr ``txt/section_parser.py`` and ``txt/create_section_files.py`` (MIT), so
sections match the ones the field uses:

1. A header is upper-case letters, spaces and ``( ) / , -`` right after a newline and one space,
   followed by a colon and one whitespace character. No header at all: one ``full report`` section.
2. Text before the first header is the ``preamble``. A section runs from after its header's colon
   and whitespace to the next header; the search for that next header resumes at the first line
   break after the section start, so a header on the line right after ``HEADER:\\n`` stays inside.
3. Names are lower-cased, trimmed and normalised (synonyms, plurals, observed typos, view phrases).
4. Empty ``impression`` and ``findings`` sections are dropped.
5. With neither left, the last section is cut at its first paragraph break and the rest becomes
   ``last_paragraph``.
6. The text of a name is its **last** section, stripped of outer whitespace only.

Not applied: the official pipeline's per-study overrides (54 reports keyed by study id); those
reports follow the general rules here.
"""

import re
from dataclasses import dataclass

_HEADER = re.compile(r"\n ([A-Z ()/,-]+):\s")
_PARAGRAPH = "\n \n"

_NAMES = {
    "preamble": "preamble",
    "impression": "impression",
    "comparison": "comparison",
    "indication": "indication",
    "findings": "findings",
    "examination": "examination",
    "technique": "technique",
    "history": "history",
    "comparisons": "comparison",
    "clinical history": "history",
    "reason for examination": "indication",
    "notification": "notification",
    "reason for exam": "indication",
    "clinical information": "history",
    "exam": "examination",
    "clinical indication": "indication",
    "conclusion": "impression",
    "chest, two views": "findings",
    "recommendation(s)": "recommendations",
    "type of examination": "examination",
    "reference exam": "comparison",
    "patient history": "history",
    "addendum": "addendum",
    "comparison exam": "comparison",
    "date": "date",
    "comment": "comment",
    "findings and impression": "impression",
    "wet read": "wet read",
    "comparison film": "comparison",
    "recommendations": "recommendations",
    "findings/impression": "impression",
    "pfi": "history",
    "recommendation": "recommendations",
    "wetread": "wet read",
    "ndication": "impression",  # as the official table has it (one report)
    "impresson": "impression",
    "imprression": "impression",
    "imoression": "impression",
    "impressoin": "impression",
    "imprssion": "impression",
    "impresion": "impression",
    "imperssion": "impression",
    "mpression": "impression",
    "impession": "impression",
    "findings/ impression": "impression",
    "finding": "findings",
    "findins": "findings",
    "findindgs": "findings",
    "findgings": "findings",
    "findngs": "findings",
    "findnings": "findings",
    "finidngs": "findings",
    "idication": "indication",
    "reference findings": "findings",
    "comparision": "comparison",
    "comparsion": "comparison",
    "comparrison": "comparison",
    "comparisions": "comparison",
}
"""Section-name variants seen in MIMIC-CXR and the name each stands for (the official table)."""

_MAIN_NAMES = ("impression", "findings", "history", "comparison", "addendum")
_VIEW_PHRASES = re.compile(
    "chest|portable|pa and lateral|lateral and pa|ap and lateral|lateral and ap|frontal and|"
    "two views|frontal view|pa view|ap view|one view|lateral view|bone window|frontal upright|"
    "frontal semi-upright|ribs|pa and lat"
)
"""A header naming the views describes the whole study: it counts as findings."""

CONCLUSION_ORDER = ("impression", "findings", "last_paragraph", "comparison")
"""Where the official pipeline looks for a report's conclusion, first match wins."""


@dataclass(frozen=True)
class Section:
    """One section: its normalised name and its raw text (line breaks and indents kept)."""

    name: str
    text: str


def normalise_name(name: str) -> str:
    """The canonical name of a section header (rule 3)."""
    name = name.lower().strip()
    if name in _NAMES:
        return _NAMES[name]
    for main in _MAIN_NAMES:
        if main in name:
            return main
    return "findings" if _VIEW_PHRASES.search(name) else name


def _raw_sections(text: str) -> list[tuple[str, str]]:
    match = _HEADER.search(text)
    if match is None:
        return [("full report", text)]
    sections = [("preamble", text[: match.start(1)])]
    while match is not None:
        start = match.end()
        line_break = text.find("\n", start)
        following = _HEADER.search(text, line_break if line_break != -1 else start)
        sections.append((match[1], text[start : following.start() if following else len(text)]))
        match = following
    return sections


def split_sections(text: str) -> list[Section]:
    """All sections of a report, in order, after rules 1-5 (the official ``section_text``)."""
    sections = [
        Section(normalise_name(name), body)
        for name, body in _raw_sections(text)
        if not (normalise_name(name) in ("impression", "findings") and not body.strip())
    ]
    names = {section.name for section in sections}
    if "impression" not in names and "findings" not in names and _PARAGRAPH in sections[-1].text:
        first, rest = sections[-1].text.split(_PARAGRAPH, 1)
        sections[-1] = Section(sections[-1].name, first)
        sections.append(Section("last_paragraph", rest))
    return sections


def section_text(sections: list[Section], name: str) -> str | None:
    """The last section called ``name``, stripped; None when the report has none (rule 6)."""
    for section in reversed(sections):
        if section.name == name:
            return section.text.strip()
    return None


def read_report(data: bytes) -> str:
    """Report bytes as text with universal newlines, as the official pipeline opens files."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def study_report(text: str) -> str:
    """The text the study trains on: FINDINGS (when present) and IMPRESSION, whitespace collapsed.

    A report with neither falls back, as the official conclusion does, to its last paragraph or
    its comparison; an empty result means the report has nothing usable.
    """
    sections = split_sections(text)
    parts = [
        f"{name.upper()}: {_one_line(body)}"
        for name in ("findings", "impression")
        if (body := section_text(sections, name))
    ]
    if parts:
        return "\n".join(parts)
    for name in CONCLUSION_ORDER[2:]:
        if body := section_text(sections, name):
            return _one_line(body)
    return ""
