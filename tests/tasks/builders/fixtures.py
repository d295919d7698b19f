"""Schema-faithful MIMIC-CXR / MIMIC-IV / INSPECT copies written by the tests (no real data).

Column names, file names, folder layouts and value encodings follow the released files
(their published schemas); every id, date and sentence here is made up.
"""

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np
import pandas as pd

from radsweep.tasks.builders.mimic_sources import NO_FINDING, OBSERVATIONS

METADATA_COLUMNS = [
    "dicom_id",
    "subject_id",
    "study_id",
    "PerformedProcedureStepDescription",
    "ViewPosition",
    "Rows",
    "Columns",
    "StudyDate",
    "StudyTime",
    "ProcedureCodeSequence_CodeMeaning",
    "ViewCodeSequence_CodeMeaning",
    "PatientOrientationCodeSequence_CodeMeaning",
]
LABEL_COLUMNS = ["subject_id", "study_id", *sorted([*OBSERVATIONS, NO_FINDING])]
ADMISSION_COLUMNS = [
    "subject_id", "hadm_id", "admittime", "dischtime", "deathtime", "admission_type",
    "admit_provider_id", "admission_location", "discharge_location", "insurance", "language",
    "marital_status", "race", "edregtime", "edouttime", "hospital_expire_flag",
]  # fmt: skip
PATIENT_COLUMNS = ["subject_id", "gender", "anchor_age", "anchor_year", "anchor_year_group", "dod"]


def mimic_report(
    findings: str | None = "Lungs are clear.",
    impression: str | None = "No acute process.",
    addendum: str | None = None,
) -> str:
    """A report in the MIMIC-CXR layout: centred title, one leading space per line."""
    lines = []
    if addendum is not None:
        lines += [" ADDENDUM:", " ", f" {addendum}", " ", " " + "_" * 78, " "]
    lines += ["                                 FINAL REPORT", " EXAMINATION:  CHEST (PA AND LAT)"]
    lines += [" ", " INDICATION:  ___ year old with cough", " ", " COMPARISON:  ___", " "]
    if findings is not None:
        lines += [" FINDINGS: ", " ", f" {findings}", " "]
    if impression is not None:
        lines += [" IMPRESSION: ", " ", f" {impression}"]
    return "\n".join(lines) + "\n"


@dataclass
class Image:
    dicom: str
    view: str = "PA"
    on_disk: bool = True


@dataclass
class Study:
    """One study: its images, its label row (None: no row), its report (None: no file)."""

    subject: str
    study: str
    images: list[Image]
    labels: dict[str, float] | None = field(default_factory=dict)
    report: str | None = field(default_factory=mimic_report)
    date: int = 21500101
    time: float = 120000.0


def _write_jpeg(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8), 100, np.uint8))


def write_mimic_cxr(
    root: Path,
    studies: list[Study],
    reports_as: str = "zip",
    extra_label_rows: list[dict] | None = None,
) -> tuple[Path, Path]:
    """Write MIMIC-CXR-JPG (metadata, labels, JPEGs) and the reports; return both paths."""
    jpg = root / "mimic-cxr-jpg"
    jpg.mkdir(parents=True)
    meta, labels, reports = [], [], {}
    for study in studies:
        folder = f"files/p{study.subject[:2]}/p{study.subject}"
        for image in study.images:
            meta.append(
                {
                    "dicom_id": image.dicom, "subject_id": int(study.subject),
                    "study_id": int(study.study), "PerformedProcedureStepDescription": "CHEST",
                    "ViewPosition": image.view, "Rows": 8, "Columns": 8,
                    "StudyDate": study.date, "StudyTime": study.time,
                    "ProcedureCodeSequence_CodeMeaning": "CHEST",
                    "ViewCodeSequence_CodeMeaning": "postero-anterior",
                    "PatientOrientationCodeSequence_CodeMeaning": "Erect",
                }
            )  # fmt: skip
            if image.on_disk:
                _write_jpeg(jpg / folder / f"s{study.study}" / f"{image.dicom}.jpg")
        if study.labels is not None:
            labels.append({"subject_id": int(study.subject), "study_id": int(study.study),
                           **study.labels})  # fmt: skip
        if study.report is not None:
            reports[f"{folder}/s{study.study}.txt"] = study.report
    labels += extra_label_rows or []
    pd.DataFrame(meta, columns=METADATA_COLUMNS).to_csv(
        jpg / "mimic-cxr-2.0.0-metadata.csv.gz", index=False
    )
    for labeler in ("chexpert", "negbio"):
        pd.DataFrame(labels, columns=LABEL_COLUMNS).to_csv(
            jpg / f"mimic-cxr-2.0.0-{labeler}.csv.gz", index=False
        )
    if reports_as == "zip":
        target = root / "mimic-cxr-reports.zip"
        with zipfile.ZipFile(target, "w") as archive:
            for name, text in reports.items():
                archive.writestr(name, text)
    else:
        target = root / "mimic-cxr-reports"
        for name, text in reports.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text)
    return jpg, target


def write_mimic_iv(root: Path, patients: list[dict], admissions: list[dict]) -> Path:
    """Write MIMIC-IV hosp/patients.csv.gz and hosp/admissions.csv.gz; return the root."""
    hosp = root / "mimic-iv" / "hosp"
    hosp.mkdir(parents=True)
    pd.DataFrame(patients, columns=PATIENT_COLUMNS).to_csv(hosp / "patients.csv.gz", index=False)
    pd.DataFrame(admissions, columns=ADMISSION_COLUMNS).to_csv(
        hosp / "admissions.csv.gz", index=False
    )
    return hosp.parent


def positive(name: str, **others: float) -> dict[str, float]:
    """A label row with ``name`` positive, ``others`` as given and everything else blank."""
    return {name: 1.0, **{key.replace("_", " "): value for key, value in others.items()}}


def write_ct(path: Path, axcodes: tuple[str, str, str] = ("L", "P", "S")) -> None:
    """A small CT (int16 HU): a body with a dense block low on the patient's left and one high
    on the patient's right. Stored along ``axcodes`` to exercise orientation; 4 mm voxels, 24^3.
    """
    ras = np.full((24, 24, 24), -1000, np.int16)  # RAS+: x towards the patient's right, ...
    ras[4:20, 6:18, 3:21] = 0  # soft-tissue body
    ras[4:8, 8:16, 6:12] = 1500  # low x: the patient's left; low z: inferior
    ras[14:20, 8:16, 16:20] = 1500  # high x: the patient's right; high z: superior
    target = nib.orientations.axcodes2ornt(axcodes)
    transform = nib.orientations.ornt_transform(nib.orientations.axcodes2ornt("RAS"), target)
    data = nib.orientations.apply_orientation(ras, transform)
    affine = np.diag([4.0, 4.0, 4.0, 1.0]) @ nib.orientations.inv_ornt_aff(transform, ras.shape)
    affine[:3, 3] += np.array([-46.0, -30.0, 100.0])
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, affine), path)


INSPECT_LABELS = [
    "impression_id", "pe_positive_nlp", "pe_acute", "pe_subsegmentalonly", "1_month_mortality",
    "6_month_mortality", "12_month_mortality", "1_month_readmission", "6_month_readmission",
    "12_month_readmission", "12_month_PH", "tte_12_month_PH", "is_censored_12_month_PH",
]  # fmt: skip


@dataclass
class CT:
    """One INSPECT study: ids, the label text per target column, the impression, the volume."""

    number: int
    person: str
    labels: dict[str, str]
    impression: str = "No pulmonary embolism. Mild atelectasis."
    volume: bool = True

    @property
    def image_id(self) -> str:
        return f"PE{self.number:08x}"

    @property
    def impression_id(self) -> str:
        return f"{900000 + self.number}"


def _label_rows(cts: list[CT], true: str, false: str) -> list[dict]:
    rows = []
    for ct in cts:
        row = {column: false for column in INSPECT_LABELS[1:]}
        row.update(impression_id=ct.impression_id, tte_12_month_PH="525600", **ct.labels)
        rows.append(row)
    return rows


def write_inspect(root: Path, cts: list[CT], layout: str = "2025") -> Path:
    """An INSPECT copy in the 2025 (TSV, CTPA/) or the original (Final_*.csv) layout."""
    root.mkdir(parents=True)
    if layout == "2025":
        volumes, tsv = root / "CTPA", {"sep": "\t", "index": False}
        pd.DataFrame(_label_rows(cts, "TRUE", "FALSE"), columns=INSPECT_LABELS).to_csv(
            root / "labels_20250611.tsv", **tsv
        )
        pd.DataFrame({"impression_id": [ct.impression_id for ct in cts],
                      "impressions": [ct.impression for ct in cts]}).to_csv(
            root / "impressions_20250611.tsv", **tsv)  # fmt: skip
        pd.DataFrame({"impression_id": [ct.impression_id for ct in cts],
                      "image_id": [ct.image_id for ct in cts],
                      "person_id": [ct.person for ct in cts],
                      "procedure_DATETIME": "2150-01-01 10:00:00"}).to_csv(
            root / "study_mapping_20250611.tsv", **tsv)  # fmt: skip
        pd.DataFrame({"impression_id": [ct.impression_id for ct in cts], "split": "train"}).to_csv(
            root / "splits_20250611.tsv", **tsv
        )
    else:
        volumes = root
        pd.DataFrame(_label_rows(cts, "True", "False"), columns=INSPECT_LABELS).to_csv(
            root / "Final_labels.csv", index=False
        )
        pd.DataFrame({"impression_id": [ct.impression_id for ct in cts],
                      "impressions": [ct.impression for ct in cts]}).to_csv(
            root / "Final_Impressions.csv", index=False)  # fmt: skip
        pd.DataFrame({"image_id": [f"{ct.image_id}.nii.gz" for ct in cts],
                      "impression_id": [ct.impression_id for ct in cts],
                      "person_id": [ct.person for ct in cts]}).to_csv(
            root / "Final_metadata.csv", index=False)  # fmt: skip
    for ct in cts:
        if ct.volume:
            write_ct(volumes / f"{ct.image_id}.nii.gz", ("L", "A", "S"))
    return root
