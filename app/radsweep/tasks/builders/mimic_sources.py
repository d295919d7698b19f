"""Readers for the user's MIMIC-CXR-JPG 2.1.0, MIMIC-CXR 2.1.0 reports and MIMIC-IV 3.1 copies.

Schemas: the sources' published layouts. Identifiers are read as text, label columns
as numbers (1 positive, 0 negative, -1 uncertain, blank not mentioned).
"""

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from radsweep.imaging.sections import read_report, study_report
from radsweep.tasks.builders.common import Counts, Progress, SourceError, numeric, read_table

METADATA_FILE = "mimic-cxr-2.0.0-metadata.csv.gz"
OBSERVATIONS = (
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Enlarged Cardiomediastinum",
    "Fracture",
    "Lung Lesion",
    "Lung Opacity",
    "Pleural Effusion",
    "Pleural Other",
    "Pneumonia",
    "Pneumothorax",
    "Support Devices",
)
"""The 13 CheXpert observations; the label files add No Finding."""
NO_FINDING = "No Finding"
FRONTAL_VIEWS = ("PA", "AP")
"""ViewPosition values that are frontal; laterals, decubitus and blanks are left out."""

JPG_LAYOUT = (
    "the MIMIC-CXR-JPG 2.1.0 folder with mimic-cxr-2.0.0-metadata.csv.gz, "
    "mimic-cxr-2.0.0-chexpert.csv.gz and files/pXX/pSUBJECT/sSTUDY/DICOM_ID.jpg"
)
REPORTS_LAYOUT = "mimic-cxr-reports.zip, or the folder holding files/pXX/pSUBJECT/sSTUDY.txt"
MIMIC_IV_LAYOUT = "the MIMIC-IV 3.1 folder with hosp/patients.csv.gz and hosp/admissions.csv.gz"
_REPORT_MEMBER = re.compile(r"(?:^|/)files/p\d\d/p(\d+)/s(\d+)\.txt$")


class Labeler(StrEnum):
    """Which released label file to use: CheXpert (the study's) or NegBio labels."""

    CHEXPERT = "chexpert"
    NEGBIO = "negbio"


def subject_folder(subject: str) -> str:
    """``pXX/pSUBJECT``: the first three characters of the subject folder group the subjects."""
    return f"p{subject[:2]}/p{subject}"


def read_metadata(jpg: Path) -> pd.DataFrame:
    """Image rows: ids, view, study date-time; one row per dicom_id (exact repeats dropped)."""
    ids = ["dicom_id", "subject_id", "study_id"]
    frame = read_table(
        jpg / METADATA_FILE,
        [*ids, "ViewPosition", "StudyDate", "StudyTime"],
        JPG_LAYOUT,
        text_columns=[*ids, "ViewPosition"],
    )
    for column in ids:
        frame[column] = frame[column].str.strip()
    frame["StudyDate"] = numeric(frame, "StudyDate", jpg / METADATA_FILE)
    frame["StudyTime"] = numeric(frame, "StudyTime", jpg / METADATA_FILE)
    return frame.drop_duplicates()


def study_datetime(frame: pd.DataFrame) -> pd.Series:
    """StudyDate (YYYYMMDD) and StudyTime (HHMMSS.fff, leading zeros lost) as one timestamp."""
    date = frame["StudyDate"].astype("Int64").astype("string")
    time = np.floor(frame["StudyTime"]).astype("Int64").astype("string").str.zfill(6)
    return pd.to_datetime(date + " " + time, format="%Y%m%d %H%M%S", errors="coerce")


def frontal_images(jpg: Path, views: tuple[str, ...], counts: Counts) -> pd.DataFrame:
    """One frontal image per study, preferring views in the order given, then the lowest dicom_id.

    Columns: sample_id (dicom_id), subject_id, study_id, view, image_path, StudyDate, StudyTime.
    """
    frame = read_metadata(jpg)
    counts["images in metadata"] = len(frame)
    frame = counts.drop("image listed twice", frame, ~frame["dicom_id"].duplicated(keep=False))
    view = frame["ViewPosition"].fillna("").str.strip().str.upper()
    frame = counts.drop("not a frontal view", frame.assign(view=view), view.isin(views))
    frame = frame.assign(rank=frame["view"].map({name: i for i, name in enumerate(views)}))
    frame = frame.sort_values(["study_id", "rank", "dicom_id"], kind="stable")
    frame = counts.drop(
        "another frontal image of the study kept", frame, ~frame["study_id"].duplicated()
    )
    paths = [
        f"files/{subject_folder(subject)}/s{study}/{dicom}.jpg"
        for subject, study, dicom in zip(
            frame["subject_id"], frame["study_id"], frame["dicom_id"], strict=True
        )
    ]
    return (
        frame.assign(image_path=paths)
        .rename(columns={"dicom_id": "sample_id"})
        .drop(columns=["rank", "ViewPosition"])
    )


def read_study_labels(jpg: Path, labeler: Labeler, counts: Counts) -> pd.DataFrame:
    """Per-study labels (float: 1, 0, -1 or NaN); studies listed twice with different labels go."""
    path = jpg / f"mimic-cxr-2.0.0-{labeler.value}.csv.gz"
    columns = [*OBSERVATIONS, NO_FINDING]
    frame = read_table(
        path, ["subject_id", "study_id", *columns], JPG_LAYOUT, ["subject_id", "study_id"]
    )
    frame["study_id"] = frame["study_id"].str.strip()
    for column in columns:
        frame[column] = numeric(frame, column, path)
        unknown = frame[column].notna() & ~frame[column].isin([1.0, 0.0, -1.0])
        if unknown.any():
            rows = ", ".join(str(row) for row in np.flatnonzero(unknown.to_numpy())[:5])
            raise SourceError(
                f"{path}: column {column} holds values other than 1, 0, -1 or blank "
                f"(data rows {rows})",
                hint="is this the released label file?",
            )
    frame = frame.drop(columns="subject_id").drop_duplicates()
    return counts.drop(
        "study with conflicting label rows", frame, ~frame["study_id"].duplicated(keep=False)
    )


def mimic_iv_table(mimic_iv: Path | None, name: str) -> Path:
    """``hosp/<name>`` under the MIMIC-IV folder (the ``hosp`` folder itself is accepted too)."""
    if mimic_iv is None:
        raise SourceError(
            "this task needs MIMIC-IV: pass --mimic-iv", hint=f"expected {MIMIC_IV_LAYOUT}"
        )
    return mimic_iv / name if mimic_iv.name == "hosp" else mimic_iv / "hosp" / name


@dataclass
class ReportSource:
    """MIMIC-CXR reports from the released zip or an unpacked folder, looked up by study."""

    root: Path | None = None
    archive: zipfile.ZipFile | None = None
    members: dict[str, str] | None = None

    def text(self, subject: str, study: str) -> str | None:
        """The report of a study with universal newlines, or None when the copy lacks it."""
        if self.archive is not None and self.members is not None:
            member = self.members.get(study)
            return None if member is None else read_report(self.archive.read(member))
        assert self.root is not None
        path = self.root / "files" / subject_folder(subject) / f"s{study}.txt"
        return read_report(path.read_bytes()) if path.is_file() else None


@contextmanager
def open_reports(path: Path) -> Iterator[ReportSource]:
    """Open the reports zip or folder, checking it has the released layout."""
    if path.is_dir():
        if not (path / "files").is_dir():
            raise SourceError(f"{path} has no files/ folder", hint=f"expected {REPORTS_LAYOUT}")
        yield ReportSource(root=path)
        return
    if not zipfile.is_zipfile(path):
        raise SourceError(
            f"{path} is neither a folder nor a zip archive", hint=f"expected {REPORTS_LAYOUT}"
        )
    with zipfile.ZipFile(path) as archive:
        members = {
            match[2]: name
            for name in archive.namelist()
            if (match := _REPORT_MEMBER.search(name)) is not None
        }
        if not members:
            raise SourceError(
                f"{path} holds no files/pXX/pSUBJECT/sSTUDY.txt reports",
                hint=f"expected {REPORTS_LAYOUT}",
            )
        yield ReportSource(archive=archive, members=members)


def attach_reports(
    frame: pd.DataFrame, reports: Path, counts: Counts, progress: Progress
) -> pd.DataFrame:
    """Add each study's FINDINGS + IMPRESSION text; studies without a usable report are dropped."""
    advance = progress("reading reports", len(frame))
    texts: list[str | None] = []
    with open_reports(reports) as source:
        for subject, study in zip(frame["subject_id"], frame["study_id"], strict=True):
            raw = source.text(subject, study)
            texts.append(None if raw is None else study_report(raw))
            advance(1)
    found = pd.Series([text is not None for text in texts], index=frame.index)
    column = pd.Series(texts, index=frame.index)
    frame = counts.drop("no report file", frame.assign(report=column), found)
    return counts.drop(
        "no FINDINGS, IMPRESSION or fallback text", frame, frame["report"].str.strip() != ""
    )
