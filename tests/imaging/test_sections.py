import pytest

from radsweep.imaging.sections import (
    normalise_name,
    read_report,
    section_text,
    split_sections,
    study_report,
)
from tests import PUBLIC_SAMPLES

SAMPLES = PUBLIC_SAMPLES
EXAMPLE = SAMPLES / "mimic_cxr_example_report.txt"

# What the official parser (MIT-LCP/mimic-cxr txt/section_parser.py) returns on the website example.
OFFICIAL_NAMES = [
    "preamble", "examination", "indication", "technique", "comparison", "findings", "impression",
]  # fmt: skip
OFFICIAL_FINDINGS = (
    "Cardiac size cannot be evaluated.  Large left pleural effusion is new.  Small\n"
    " right effusion is new.  The upper lungs are clear.  Right lower lobe opacities\n"
    " are better seen in prior CT.  There is no pneumothorax.  There are mild\n"
    " degenerative changes in the thoracic spine"
)
OFFICIAL_IMPRESSION = "Large left pleural effusion"


def test_the_website_example_splits_as_the_official_parser_does() -> None:
    sections = split_sections(read_report(EXAMPLE.read_bytes()))
    assert [section.name for section in sections] == OFFICIAL_NAMES
    assert section_text(sections, "findings") == OFFICIAL_FINDINGS
    assert section_text(sections, "impression") == OFFICIAL_IMPRESSION
    assert section_text(sections, "preamble") == "FINAL REPORT"
    assert study_report(EXAMPLE.read_text()) == (
        "FINDINGS: " + " ".join(OFFICIAL_FINDINGS.split()) + "\nIMPRESSION: " + OFFICIAL_IMPRESSION
    )


@pytest.mark.parametrize("name", ["00000086.txt", "00019248.txt"])
def test_headers_without_the_leading_space_are_not_headers(name: str) -> None:
    sections = split_sections(read_report((SAMPLES / name).read_bytes()))
    assert [section.name for section in sections] == ["full report"]
    assert "\r" not in sections[0].text


def test_a_header_on_the_first_line_is_never_found() -> None:
    sections = split_sections("IMPRESSION: first line.\n FINDINGS: later.\n")
    assert [section.name for section in sections] == ["preamble", "findings"]
    assert sections[0].text == "IMPRESSION: first line.\n "  # up to the header name


def test_a_header_right_after_a_colon_line_break_stays_inside() -> None:
    text = " x\n FINDINGS:\n IMPRESSION: hidden.\n more.\n COMPARISON: none.\n"
    sections = split_sections(text)
    assert [section.name for section in sections] == ["preamble", "findings", "comparison"]
    assert section_text(sections, "findings") == "IMPRESSION: hidden.\n more."


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("COMPARISONS", "comparison"),
        ("REASON FOR EXAM", "indication"),
        ("CLINICAL HISTORY", "history"),
        ("CONCLUSION", "impression"),
        ("FINDINGS AND IMPRESSION", "impression"),
        ("IMPRESSON", "impression"),
        ("FINDNGS", "findings"),
        ("WETREAD", "wet read"),
        ("FINAL ADDENDUM", "addendum"),
        ("CHEST PA AND LATERAL", "findings"),
        ("PORTABLE AP", "findings"),
        ("  TECHNIQUE ", "technique"),
        ("NOTE", "note"),
    ],
)
def test_section_names_are_normalised(header: str, name: str) -> None:
    assert normalise_name(header) == name


def test_empty_findings_are_dropped_and_the_last_section_of_a_name_wins() -> None:
    text = " x\n FINDINGS: \n \n IMPRESSION: first.\n \n IMPRESSION: second.\n"
    sections = split_sections(text)
    assert "findings" not in [section.name for section in sections]
    assert section_text(sections, "impression") == "second."


def test_last_paragraph_fallback_when_neither_impression_nor_findings() -> None:
    text = " x\n COMPARISON: none.\n \n Heart size normal.\n \n Lungs clear.\n"
    sections = split_sections(text)
    assert [section.name for section in sections] == ["preamble", "comparison", "last_paragraph"]
    assert section_text(sections, "comparison") == "none."
    assert section_text(sections, "last_paragraph") == "Heart size normal.\n \n Lungs clear."
    assert study_report(text) == "Heart size normal. Lungs clear."


def test_study_report_uses_impression_alone_and_ignores_a_top_addendum() -> None:
    text = (
        " ADDENDUM:\n \n Called the team.\n ____\n \n      FINAL REPORT\n"
        " INDICATION: cough\n \n IMPRESSION: \n \n Small left effusion.\n"
    )
    assert study_report(text) == "IMPRESSION: Small left effusion."


def test_study_report_is_empty_when_nothing_usable() -> None:
    assert study_report(" x\n INDICATION: cough.\n") == ""
    assert split_sections("")[0].name == "full report"


def test_reports_are_read_with_universal_newlines() -> None:
    assert read_report(b" a\r\n b\r c\n") == " a\n b\n c\n"
