"""INSPECT tasks: 12-Month PH, Readmission and Pulmonary Embolism on CT -> radiograph DRRs.

* **Layouts.** The 2025 AIMI release (``labels_*.tsv``, ``impressions_*.tsv``,
  ``study_mapping_*.tsv``, ``CTPA/<image_id>.nii.gz``) and the original one (``Final_metadata.csv``,
  ``Final_labels*.csv``, ``Final_Impressions.csv``), found automatically; labels join on
  impression_id. The newest dated file wins when several exist; task.json records which.
* **Labels** are read as text, trimmed and compared case-insensitively: ``true`` 1, ``false`` 0,
  ``censored``/``censor`` removed; anything else is an error naming its row. (Pandas would parse a
  TRUE/FALSE-only column as bool but keep ``TRUE`` as text next to ``Censored``.)
* **Balance.** As in the paper: censored rows out, then the class with more patients (the event-free
  one in practice) is subsampled to as many patients as the other, by a seeded keyed draw; all of
  a chosen patient's images of that class are kept.
* **Reports** are INSPECT's impressions as given (outer whitespace trimmed).
* **Images.** Each kept CT becomes an AP radiograph (radsweep.imaging.drr), equalised and stored
  as JPEG 95, in a DRR folder shared by the three tasks (default: ``inspect-drr`` beside the task
  folder). Rendering runs in parallel and resumes: finished images are kept.
"""

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radsweep.atomic import write_text_atomic
from radsweep.errors import RadsweepError
from radsweep.imaging.drr import DrrGeometry, DrrMethod, render_file, resolve_method
from radsweep.imaging.io import JPEG_QUALITY
from radsweep.tasks.builders.common import (
    Counts,
    Progress,
    SourceError,
    keyed_order,
    no_progress,
    pick_column,
    read_table,
    write_task,
)
from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.tasks.manifest import Manifest

TARGETS = {
    "12-month-ph": "12_month_PH",
    "readmission": "12_month_readmission",
    "pe": "pe_positive_nlp",
}
"""The label column of each INSPECT task."""
PATIENT_COLUMNS = ("person_id", "patient_id", "PatientID")
IMPRESSION_COLUMNS = ("impressions", "impression")
LABEL_VALUES = {"true": 1.0, "false": 0.0, "censored": np.nan, "censor": np.nan}
DRR_MARKER = "drr.json"
LAYOUTS = (
    "2025 release: labels_DATE.tsv, impressions_DATE.tsv, study_mapping_DATE.tsv and "
    "CTPA/IMAGE_ID.nii.gz; or original release: Final_metadata.csv, Final_labels.csv, "
    "Final_Impressions.csv and the .nii.gz volumes"
)


class Layout(StrEnum):
    """Which INSPECT release a folder holds."""

    V2 = "2025"
    ORIGINAL = "original"


@dataclass(frozen=True)
class InspectFiles:
    """The tables of one INSPECT copy: studies (image, impression, patient), labels, impressions."""

    layout: Layout
    studies: Path
    labels: Path
    impressions: Path


def _newest(root: Path, pattern: str) -> Path:
    found = sorted(root.glob(pattern))
    if not found:
        raise SourceError(f"no {pattern} in {root}", hint=f"expected {LAYOUTS}")
    return found[-1]


def find_files(root: Path) -> InspectFiles:
    """Detect the release layout of ``root`` and the tables it holds."""
    if not root.is_dir():
        raise SourceError(f"INSPECT folder {root} does not exist", hint=f"expected {LAYOUTS}")
    if any(root.glob("labels_*.tsv")):
        return InspectFiles(
            Layout.V2,
            studies=_newest(root, "study_mapping_*.tsv"),
            labels=_newest(root, "labels_*.tsv"),
            impressions=_newest(root, "impressions_*.tsv"),
        )
    if (root / "Final_metadata.csv").is_file():
        return InspectFiles(
            Layout.ORIGINAL,
            studies=root / "Final_metadata.csv",
            labels=_newest(root, "Final_labels*.csv"),
            impressions=_newest(root, "Final_Impressions*.csv"),
        )
    raise SourceError(f"{root} holds neither INSPECT layout", hint=f"expected {LAYOUTS}")


def _rows(mask: pd.Series) -> str:
    return ", ".join(str(row) for row in np.flatnonzero(mask.to_numpy())[:5])


def parse_labels(values: pd.Series, column: str, path: Path) -> pd.Series:
    """TRUE/FALSE/Censored in any case as 1.0 / 0.0 / NaN; other values are errors."""
    text = values.fillna("").astype(str).str.strip().str.lower()
    unknown = ~text.isin(LABEL_VALUES)
    if unknown.any():
        raise SourceError(
            f"{path}: column {column} holds values other than TRUE, FALSE or Censored "
            f"(data rows {_rows(unknown)})",
            hint="is this the released label file?",
        )
    return text.map(LABEL_VALUES).astype(float)


def _unique(frame: pd.DataFrame, key: str, what: str, counts: Counts) -> pd.DataFrame:
    frame = frame.drop_duplicates()
    return counts.drop(f"{what} listed twice", frame, ~frame[key].duplicated(keep=False))


def _stripped(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda column: column.fillna("").str.strip())


def read_studies(files: InspectFiles, target: str, counts: Counts) -> pd.DataFrame:
    """One row per CT: sample_id, patient_id, impression_id, report, label (NaN when censored)."""
    patient = pick_column(files.studies, PATIENT_COLUMNS, LAYOUTS)
    ids = ["image_id", "impression_id", patient]
    studies = _stripped(read_table(files.studies, ids, LAYOUTS, ids))
    studies = _unique(studies.rename(columns={patient: "patient_id"}), "image_id", "CT", counts)
    labels = _stripped(
        read_table(files.labels, ["impression_id", target], LAYOUTS, [target, "impression_id"])
    )
    labels = labels.assign(label=parse_labels(labels[target], target, files.labels))
    labels = _unique(labels[["impression_id", "label"]], "impression_id", "label row", counts)
    text = pick_column(files.impressions, IMPRESSION_COLUMNS, LAYOUTS)
    reports = read_table(
        files.impressions, ["impression_id", text], LAYOUTS, ["impression_id", text]
    )
    reports = _stripped(reports).rename(columns={text: "report"})
    reports = _unique(reports, "impression_id", "impression", counts)
    frame = studies.merge(labels, on="impression_id", how="left", indicator=True)
    frame = counts.drop("no label row", frame, frame["_merge"] == "both").drop(columns="_merge")
    frame = frame.merge(reports, on="impression_id", how="left")
    frame = counts.drop("no impression text", frame, frame["report"].fillna("") != "")
    sample_ids = frame["image_id"].str.removesuffix(".gz").str.removesuffix(".nii")
    return frame.assign(sample_id=sample_ids).drop(columns="image_id")


def balance_patients(frame: pd.DataFrame, namespace: str, counts: Counts) -> pd.DataFrame:
    """Subsample the class with more patients to as many patients as the other class has."""
    patients = [
        frame.loc[frame["label"] == label, "patient_id"].drop_duplicates() for label in (0, 1)
    ]
    larger = 0 if len(patients[0]) >= len(patients[1]) else 1
    pool = patients[larger].reset_index(drop=True)
    chosen = set(pool.iloc[keyed_order(namespace, pool)[: len(patients[1 - larger])]])
    keep = (frame["label"] != larger) | frame["patient_id"].isin(chosen)
    return counts.drop("balancing: patients of the larger class left out", frame, keep)


def drr_settings(method: DrrMethod, geometry: DrrGeometry) -> dict[str, Any]:
    """What makes two DRR folders interchangeable: recorded in drr.json and task.json."""
    resolved, _ = resolve_method(method)
    return {
        "method": resolved.value,
        "geometry": geometry.model_dump(),
        "view": "anterior-posterior, isocentre at the volume centre",
        "postprocessing": f"min-max to 8 bits, cv2.equalizeHist, JPEG quality {JPEG_QUALITY}",
    }


def check_drr_dir(drr_dir: Path, settings: dict[str, Any]) -> bool:
    """Whether ``drr_dir`` already records these settings; other settings are an error."""
    marker = drr_dir / DRR_MARKER
    if not marker.is_file():
        return False
    previous = json.loads(marker.read_text(encoding="utf-8"))
    if previous != settings:
        raise RadsweepError(
            f"{drr_dir} holds DRRs made with other settings ({previous.get('method')}, "
            f"{previous.get('geometry')})",
            hint="pass the same --drr and geometry, or choose another --drr-dir",
        )
    return True


def claim_drr_dir(drr_dir: Path, settings: dict[str, Any]) -> None:
    """Record the DRR settings in ``drr_dir`` (once), so later builds reuse only matching images."""
    if not check_drr_dir(drr_dir, settings):
        drr_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(drr_dir / DRR_MARKER, json.dumps(settings, indent=2) + "\n")


def render_all(
    jobs: list[tuple[Path, Path]],
    method: DrrMethod,
    geometry: DrrGeometry,
    workers: int,
    progress: Progress,
) -> None:
    """Render the (volume, JPEG) pairs whose JPEG is missing, in ``workers`` processes."""
    resolved, binary = resolve_method(method)
    todo = [(volume, target) for volume, target in jobs if not target.is_file()]
    advance = progress(f"rendering DRRs ({resolved.value})", len(jobs))
    advance(len(jobs) - len(todo))
    failures: list[str] = []
    if workers <= 1:
        for volume, target in todo:
            if (failure := render_file(volume, target, resolved, geometry, binary)) is not None:
                failures.append(failure)
            advance(1)
    else:
        # spawn, not fork: the parent runs a progress-bar thread whose locks a fork would copy.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(render_file, volume, target, resolved, geometry, binary)
                for volume, target in todo
            ]
            for future in as_completed(futures):
                if (failure := future.result()) is not None:
                    failures.append(failure)
                advance(1)
    if failures:
        raise RadsweepError(
            f"{len(failures)} of {len(todo)} CT volumes failed, e.g. {failures[0]}",
            hint="fix or remove those volumes (missing volumes are skipped) and run again: "
            "finished radiographs are kept",
        )


def build_inspect(
    task_name: str,
    inspect: Path,
    out: Path,
    *,
    volumes: Path | None = None,
    drr_dir: Path | None = None,
    method: DrrMethod = DrrMethod.AUTO,
    geometry: DrrGeometry | None = None,
    workers: int = 1,
    seed: int = 0,
    progress: Progress = no_progress,
) -> Manifest:
    """Build one INSPECT task: labels, balance, DRRs, manifest."""
    if task_name not in TARGETS:
        raise RadsweepError(f"unknown INSPECT task {task_name!r}", hint=f"one of {list(TARGETS)}")
    task, target = STUDY_TASKS[task_name], TARGETS[task_name]
    geometry = geometry or DrrGeometry()
    files = find_files(inspect)
    volumes = volumes or (inspect / "CTPA" if (inspect / "CTPA").is_dir() else inspect)
    drr_dir = drr_dir or out.parent / "inspect-drr"
    settings = drr_settings(method, geometry)
    check_drr_dir(drr_dir, settings)
    counts = Counts()
    frame = read_studies(files, target, counts)
    frame = counts.drop("censored", frame, frame["label"].notna())
    frame = frame.assign(label=frame["label"].astype(int))
    on_disk = frame["sample_id"].map(lambda sample: (volumes / f"{sample}.nii.gz").is_file())
    frame = counts.drop("CT volume not in the copy", frame, on_disk.astype(bool))
    present = sorted(set(frame["label"]))
    if present != [0, 1]:
        raise RadsweepError(
            f"task {task.name} has {'no' if not present else 'one'} class after censoring "
            f"({dict(counts)})",
            hint="check the label file and that the CT volumes are under --volumes",
        )
    frame = balance_patients(frame, f"{task.name}\x1f{seed}", counts)
    frame = frame.assign(image_path=frame["sample_id"] + ".jpg")
    if not frame.empty:
        claim_drr_dir(drr_dir, settings)
        samples = frame["sample_id"]
        jobs = [(volumes / f"{sample}.nii.gz", drr_dir / f"{sample}.jpg") for sample in samples]
        render_all(jobs, method, geometry, workers, progress)
    sources = {
        name: str(getattr(files, name).resolve()) for name in ("studies", "labels", "impressions")
    }
    builder = {
        "name": "inspect",
        "task": task.name,
        "layout": files.layout.value,
        "sources": {**sources, "volumes": str(volumes.resolve())},
        "options": {"target": target, "seed": seed, "balance": "patients", "drr": settings},
    }
    columns = ["sample_id", "image_path", "report", "label", "patient_id", "impression_id"]
    image_root = os.path.relpath(drr_dir.resolve(), out.resolve())
    return write_task(out, frame[columns], task, image_root, builder, counts)
