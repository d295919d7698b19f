"""MIMIC-CXR tasks: MIMIC 5x1200 (diagnostic), Age (auxiliary) and 3-Day Discharge (prognostic).

Shared choices, recorded in each task.json:

* **Images.** Frontal views only (PA, AP by default), **one image per study** (PA before AP, then
  the lowest dicom_id), so repeated exposures of one study never count twice. Images missing from
  the user's copy are skipped and counted: many users hold part of MIMIC-CXR-JPG.
* **Reports.** FINDINGS (when present) and IMPRESSION, found as the official MIMIC-CXR section
  parser finds them (radsweep.imaging.sections); studies whose report has neither fall back to its
  last paragraph or comparison, and studies with no usable text are dropped.
* **MIMIC 5x1200.** Rule ``exactly-one`` (the paper's wording): exactly one of the five classes is
  1.0, the other four are anything else (0, uncertain -1, blank). Rule ``strict`` (GLoRIA's
  CheXpert 5x200): blanks count as 0, the class is 1.0 and the 12 other observations (No Finding
  aside) are exactly 0. Per class, a seeded draw of 200 evaluation and 1,000 training images keeps
  every patient on one side.
* **Age.** Age at the study = anchor_age + (study year - anchor_year). MIMIC-IV stores ages over
  89 as 91: such a patient is at least 90 + (study year - anchor_year); kept only when that lower
  bound already falls in the top bin. Bin edges are configurable; the default is not verified
  against RAD-DINO.
* **3-Day Discharge.** An image belongs to the admission of the same subject whose window holds
  its study time: from admittime (or the emergency-department registration edregtime when earlier,
  or admittime minus a tolerance) to dischtime. Overlapping windows: the admission that started
  last wins (then the lowest hadm_id). Label 1 when dischtime - study time <= 72 h. In-hospital
  deaths are excluded by default (neither outcome applies), or counted as not discharged.
"""

import collections
import itertools
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radsweep.errors import RadsweepError
from radsweep.tasks.builders.common import (
    Counts,
    Progress,
    SourceError,
    existing,
    keyed_order,
    no_progress,
    numeric,
    read_table,
    write_task,
)
from radsweep.tasks.builders.mimic_sources import (
    FRONTAL_VIEWS,
    MIMIC_IV_LAYOUT,
    OBSERVATIONS,
    Labeler,
    attach_reports,
    frontal_images,
    mimic_iv_table,
    read_study_labels,
    study_datetime,
)
from radsweep.tasks.catalogue import AGE_BIN_EDGES, STUDY_TASKS, age_bin_names
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.spec import TaskSpec

DISCHARGE_HOURS = 72.0
OVER_89 = 91
"""MIMIC-IV's anchor_age for every patient older than 89."""
_COLUMNS = ["sample_id", "image_path", "report", "label", "patient_id", "study_id", "view"]


class Rule(StrEnum):
    """Which studies count as showing exactly one of the five MIMIC 5x1200 findings."""

    EXACTLY_ONE = "exactly-one"
    STRICT = "strict"


class Deaths(StrEnum):
    """How an admission that ends in death is treated by 3-Day Discharge."""

    EXCLUDE = "exclude"
    NEGATIVE = "negative"


def _images(jpg: Path, views: tuple[str, ...], counts: Counts) -> pd.DataFrame:
    views = tuple(view.strip().upper() for view in views)
    if not views or any(not view for view in views):
        raise RadsweepError("no views given", hint=f"e.g. {','.join(FRONTAL_VIEWS)}")
    return frontal_images(jpg, views, counts)


def _on_disk(frame: pd.DataFrame, jpg: Path, counts: Counts, progress: Progress) -> pd.DataFrame:
    return counts.drop(
        "image file not in the copy", frame, existing(frame, jpg, "image_path", progress)
    )


def _finish(frame: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    return frame.rename(columns={"subject_id": "patient_id"})[[*_COLUMNS, *extra]]


def _builder(task: str, jpg: Path, reports: Path, options: dict[str, Any]) -> dict[str, Any]:
    sources = {"mimic_cxr_jpg": str(jpg.resolve()), "mimic_cxr_reports": str(reports.resolve())}
    return {"name": "mimic", "task": task, "sources": sources, "options": options}


def _limit(
    frame: pd.DataFrame, max_samples: int | None, namespace: str, counts: Counts
) -> pd.DataFrame:
    if max_samples is None or len(frame) <= max_samples:
        return frame
    chosen = np.zeros(len(frame), bool)
    chosen[keyed_order(namespace, frame["sample_id"])[:max_samples]] = True
    return counts.drop("beyond --max-samples", frame, pd.Series(chosen, index=frame.index))


def five_class_labels(labels: pd.DataFrame, rule: Rule, classes: tuple[str, ...]) -> np.ndarray:
    """Class index per study under ``rule``, or -1 when the study does not qualify."""
    positive = labels[list(classes)].eq(1.0).to_numpy()
    single = positive.sum(axis=1) == 1
    if rule is Rule.STRICT:
        others_zero = labels[list(OBSERVATIONS)].fillna(0.0).ne(0.0).sum(axis=1).to_numpy() == 1
        single &= others_zero
    return np.where(single, positive.argmax(axis=1), -1)


def draw_pools(
    frame: pd.DataFrame, n_classes: int, per_class: int, eval_per_class: int, namespace: str
) -> pd.DataFrame:
    """A seeded draw of ``eval_per_class`` evaluation and the rest training images per class.

    Images are visited in a keyed order: first filling each class's evaluation pool (its patients
    then belong to evaluation), then each class's training pool from the other patients.
    """
    ordered = frame.iloc[keyed_order(namespace, frame["sample_id"])]
    labels, patients = ordered["label"].to_numpy(), ordered["subject_id"].to_numpy()
    pool = np.full(len(ordered), "", dtype=object)
    taken: collections.Counter[tuple[str, int]] = collections.Counter()
    eval_patients: set[str] = set()
    for row, (label, patient) in enumerate(zip(labels, patients, strict=True)):
        if taken["eval", label] < eval_per_class:
            pool[row], taken["eval", label] = "eval", taken["eval", label] + 1
            eval_patients.add(patient)
    for row, (label, patient) in enumerate(zip(labels, patients, strict=True)):
        free = not pool[row] and patient not in eval_patients
        if free and taken["train", label] < per_class - eval_per_class:
            pool[row], taken["train", label] = "train", taken["train", label] + 1
    short = [
        f"class {label}: {taken['eval', label] + taken['train', label]}"
        for label in range(n_classes)
        if taken["eval", label] + taken["train", label] < per_class
    ]
    if short:
        raise RadsweepError(
            f"too few eligible images for {per_class} per class ({'; '.join(short)})",
            hint="lower --per-class / --eval-per-class, use --rule exactly-one, or add images",
        )
    return ordered.assign(pool=pool)[pool != ""]


def five_class_candidates(
    jpg: Path,
    reports: Path,
    rule: Rule,
    labeler: Labeler,
    views: tuple[str, ...],
    counts: Counts,
    progress: Progress = no_progress,
) -> pd.DataFrame:
    """Every image that qualifies for MIMIC 5x1200 under ``rule``, with its class and report."""
    classes = STUDY_TASKS["mimic-5x1200"].classes
    frame = _images(jpg, views, counts)
    labels = read_study_labels(jpg, labeler, counts)
    frame = frame.merge(labels, on="study_id", how="left", indicator=True)
    frame = counts.drop("study has no label row", frame, frame["_merge"] == "both")
    frame = frame.assign(label=five_class_labels(frame, rule, classes))
    frame = counts.drop(f"not exactly one of the five ({rule.value})", frame, frame["label"] >= 0)
    frame = _on_disk(frame, jpg, counts, progress)
    return attach_reports(frame, reports, counts, progress)


def build_5x1200(
    jpg: Path,
    reports: Path,
    out: Path,
    *,
    seed: int = 0,
    rule: Rule = Rule.EXACTLY_ONE,
    labeler: Labeler = Labeler.CHEXPERT,
    views: tuple[str, ...] = FRONTAL_VIEWS,
    per_class: int = 1200,
    eval_per_class: int = 200,
    progress: Progress = no_progress,
) -> Manifest:
    """MIMIC 5x1200: studies with one of five findings; 1,000 training + 200 evaluation each."""
    if not 0 < eval_per_class < per_class:
        raise RadsweepError(
            f"--eval-per-class must lie between 0 and --per-class ({eval_per_class}, {per_class})",
            hint="the paper uses 1200 per class, 200 of them for evaluation",
        )
    task = STUDY_TASKS["mimic-5x1200"]
    counts = Counts()
    candidates = five_class_candidates(jpg, reports, rule, labeler, views, counts, progress)
    namespace = f"{task.name}\x1f{seed}"
    frame = draw_pools(candidates, task.n_classes, per_class, eval_per_class, namespace)
    counts["eligible but not drawn"] = len(candidates) - len(frame)
    options = {
        "rule": rule.value,
        "labeler": labeler.value,
        "views": list(views),
        "seed": seed,
        "per_class": per_class,
        "eval_per_class": eval_per_class,
        "one_image_per_study": True,
    }
    return write_task(
        out,
        _finish(frame, ["pool"]),
        task,
        str(jpg.resolve()),
        _builder(task.name, jpg, reports, options),
        counts,
    )


def age_task(edges: tuple[int, ...]) -> TaskSpec:
    """The Age task with the given inner bin edges (years)."""
    if not edges or any(b <= a for a, b in itertools.pairwise(edges)) or edges[0] <= 0:
        raise RadsweepError(
            f"age bin edges must be positive and strictly increasing, got {list(edges)}",
            hint=f"e.g. --age-bins {','.join(map(str, AGE_BIN_EDGES))}",
        )
    spec = STUDY_TASKS["age"]
    return TaskSpec.model_validate({**spec.model_dump(), "classes": age_bin_names(edges)})


def _patients(mimic_iv: Path | None, counts: Counts) -> pd.DataFrame:
    path = mimic_iv_table(mimic_iv, "patients.csv.gz")
    frame = read_table(
        path, ["subject_id", "anchor_age", "anchor_year"], MIMIC_IV_LAYOUT, ["subject_id"]
    )
    frame["subject_id"] = frame["subject_id"].str.strip()
    for column in ("anchor_age", "anchor_year"):
        frame[column] = numeric(frame, column, path)
    frame = frame.drop_duplicates()
    return counts.drop(
        "patient listed twice in patients", frame, ~frame["subject_id"].duplicated(keep=False)
    )


def build_age(
    jpg: Path,
    reports: Path,
    mimic_iv: Path | None,
    out: Path,
    *,
    edges: tuple[int, ...] = AGE_BIN_EDGES,
    views: tuple[str, ...] = FRONTAL_VIEWS,
    max_samples: int | None = None,
    seed: int = 0,
    progress: Progress = no_progress,
) -> Manifest:
    """Age: the patient's age at the study in bins (MIMIC-IV anchor age and year)."""
    task = age_task(edges)
    counts = Counts()
    frame = _images(jpg, views, counts)
    frame = frame.merge(_patients(mimic_iv, counts), on="subject_id", how="left")
    known = frame["anchor_age"].notna() & frame["anchor_year"].notna()
    frame = counts.drop("no MIMIC-IV patient record", frame, known)
    frame = counts.drop("no study date", frame, frame["StudyDate"].notna())
    years_since_anchor = frame["StudyDate"] // 10000 - frame["anchor_year"]
    over_89 = frame["anchor_age"] >= OVER_89
    age = np.where(over_89, 90 + years_since_anchor, frame["anchor_age"] + years_since_anchor)
    label = np.searchsorted(np.array(edges), age, side="right")
    frame = frame.assign(age_years=age, age_over_89=over_89, label=label)
    certain = ~over_89 | (label == len(edges))
    frame = counts.drop("over 89, bin unknown for these edges", frame, certain)
    frame = _on_disk(frame, jpg, counts, progress)
    frame = attach_reports(frame, reports, counts, progress)
    frame = _limit(frame, max_samples, f"{task.name}\x1f{seed}", counts)
    options = {"age_bin_edges": list(edges), "views": list(views), "max_samples": max_samples,
               "seed": seed, "one_image_per_study": True, "edges_verified": False}  # fmt: skip
    builder = _builder(task.name, jpg, reports, options)
    builder["sources"]["mimic_iv"] = str(mimic_iv_table(mimic_iv, "patients.csv.gz").resolve())
    return write_task(
        out, _finish(frame, ["age_years", "age_over_89"]), task, str(jpg.resolve()), builder, counts
    )


def _timestamps(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
    bad = values.isna() & frame[column].notna() & (frame[column].str.strip() != "")
    if bad.any():
        rows = ", ".join(str(row) for row in np.flatnonzero(bad.to_numpy())[:5])
        raise SourceError(
            f"{path}: column {column} holds values that are not date-times (data rows {rows})",
            hint="expected YYYY-MM-DD HH:MM:SS as released",
        )
    return values


def read_admissions(mimic_iv: Path | None, counts: Counts) -> pd.DataFrame:
    """Admissions with parsed times, a window start and a death flag; one row per hadm_id."""
    path = mimic_iv_table(mimic_iv, "admissions.csv.gz")
    times = ["admittime", "dischtime", "deathtime", "edregtime"]
    ids = ["subject_id", "hadm_id"]
    frame = read_table(
        path, [*ids, *times, "hospital_expire_flag"], MIMIC_IV_LAYOUT, [*ids, *times]
    )
    for column in ids:
        frame[column] = frame[column].str.strip()
    for column in times:
        frame[column] = _timestamps(frame, column, path)
    frame["died"] = frame["deathtime"].notna() | (
        numeric(frame, "hospital_expire_flag", path).fillna(0) == 1
    )
    frame = frame.drop_duplicates(subset=[*ids, "admittime", "dischtime"])
    frame = counts.drop("admission listed twice", frame, ~frame["hadm_id"].duplicated(keep=False))
    timed = frame["admittime"].notna() & frame["dischtime"].notna()
    return counts.drop("admission without admit or discharge time", frame, timed)


def link_admissions(
    images: pd.DataFrame, admissions: pd.DataFrame, tolerance_hours: float
) -> pd.DataFrame:
    """Each image with the admission whose window holds its time; images outside all windows go."""
    start = admissions["admittime"] - pd.Timedelta(hours=tolerance_hours)
    earlier_ed = admissions["edregtime"].notna() & (admissions["edregtime"] < start)
    admissions = admissions.assign(start=start.where(~earlier_ed, admissions["edregtime"]))
    pairs = images.merge(admissions, on="subject_id", how="inner")
    inside = (pairs["start"] <= pairs["time"]) & (pairs["time"] <= pairs["dischtime"])
    pairs = pairs[inside].sort_values(
        ["sample_id", "start", "hadm_id"], ascending=[True, False, True]
    )
    return pairs.drop_duplicates("sample_id")


def build_discharge(
    jpg: Path,
    reports: Path,
    mimic_iv: Path | None,
    out: Path,
    *,
    views: tuple[str, ...] = FRONTAL_VIEWS,
    tolerance_hours: float = 0.0,
    deaths: Deaths = Deaths.EXCLUDE,
    max_samples: int | None = None,
    seed: int = 0,
    progress: Progress = no_progress,
) -> Manifest:
    """3-Day Discharge: is the patient discharged within 72 h of the image?"""
    if tolerance_hours < 0:
        raise RadsweepError("--pre-admission-hours must be >= 0", hint="0 uses edregtime alone")
    task = STUDY_TASKS["3-day-discharge"]
    counts = Counts()
    frame = _images(jpg, views, counts)
    frame = frame.assign(time=study_datetime(frame))
    frame = counts.drop("no study date-time", frame, frame["time"].notna())
    admissions = read_admissions(mimic_iv, counts)
    linked = link_admissions(frame, admissions, tolerance_hours)
    if len(linked) < len(frame):
        counts["outside any admission"] = len(frame) - len(linked)
    hours = (linked["dischtime"] - linked["time"]).dt.total_seconds() / 3600.0
    frame = linked.assign(
        hours_to_discharge=hours.round(2),
        before_admission=linked["time"] < linked["admittime"],
        label=(hours <= DISCHARGE_HOURS).astype(int),
    )
    if deaths is Deaths.EXCLUDE:
        frame = counts.drop("admission ended in death", frame, ~frame["died"])
    else:
        frame = frame.assign(label=frame["label"].where(~frame["died"], 0))
    frame = _on_disk(frame, jpg, counts, progress)
    frame = attach_reports(frame, reports, counts, progress)
    frame = _limit(frame, max_samples, f"{task.name}\x1f{seed}", counts)
    options = {
        "views": list(views),
        "discharge_within_hours": DISCHARGE_HOURS,
        "window": "edregtime (when earlier) or admittime minus the tolerance, to dischtime",
        "pre_admission_hours": tolerance_hours,
        "overlap": "latest start, then lowest hadm_id",
        "deaths": deaths.value,
        "max_samples": max_samples,
        "seed": seed,
        "one_image_per_study": True,
    }
    builder = _builder(task.name, jpg, reports, options)
    builder["sources"]["mimic_iv"] = str(mimic_iv_table(mimic_iv, "admissions.csv.gz").resolve())
    extra = ["hadm_id", "hours_to_discharge", "before_admission"]
    return write_task(out, _finish(frame, extra), task, str(jpg.resolve()), builder, counts)
