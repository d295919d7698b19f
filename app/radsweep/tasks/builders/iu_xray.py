"""Indiana University chest X-rays (Open-i, NLM): tasks built from the public archives in place.

``NLMCXR_reports.tgz`` and ``NLMCXR_png.tgz`` (or their extracted folders) are streamed with
``tarfile``; only the one frontal image kept per study is written, as a grayscale PNG, into a
folder the tasks share. Choices, recorded in each task.json:

* **Studies.** One exam per patient, so the study id is the patient id (splits group on it).
  Reports keep FINDINGS and IMPRESSION (IMPRESSION alone when FINDINGS is missing); studies with
  neither are dropped and counted. Studies without MeSH major headings, or coded ``No Indexing``,
  have no label and are dropped and counted.
* **Images.** One frontal image per study (the paper's protocol): the lowest image id among the
  frontal ones, views from the projection table when given, else the symmetry heuristic
  (``iu_xray_views``). Studies with no frontal image are dropped and counted. RGB or palette
  PNGs are converted to 8-bit grayscale and flagged in the manifest.
* **Labels** come from ``MeSH/major`` headings (never keywords: most mentions are negated):
  ``iu-normal`` is ``normal`` against any other heading; each finding task is that heading
  against all other coded studies. A finding task with fewer positives than ``min_positives``
  is skipped and reported.
* The collection is CC BY-NC-ND 4.0: radsweep ships this builder, never the data.
"""

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from PIL import Image

from radsweep.atomic import write_atomic
from radsweep.tasks.builders.common import (
    Counts,
    Progress,
    SourceError,
    no_progress,
    write_task,
)
from radsweep.tasks.builders.iu_xray_reports import (
    NO_INDEXING,
    NORMAL,
    Study,
    natural_key,
    read_studies,
)
from radsweep.tasks.builders.iu_xray_views import (
    SYMMETRY_THRESHOLD,
    ViewSource,
    image_key,
    looks_frontal,
    read_projections,
)
from radsweep.tasks.catalogue import IU_XRAY_FINDINGS, IU_XRAY_TASKS
from radsweep.tasks.manifest import Manifest

IMAGES_LAYOUT = "NLMCXR_png.tgz (or its extracted folder) with <parentImage id>.png files"
IMAGES_FOLDER = "iu-xray-images"
MIN_POSITIVES = 30
_GRAY_MODES = {"L", "I", "I;16", "I;16B", "I;16L"}


@dataclass
class IuBuild:
    """What one build wrote and what it left out."""

    manifests: list[Manifest] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)


@dataclass
class _Chosen:
    """The frontal image kept for each study while the archive streams past."""

    image: dict[str, str] = field(default_factory=dict)
    converted: dict[str, bool] = field(default_factory=dict)


def _png_members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(image id, bytes) of every PNG, streamed from a tar archive or read from a folder."""
    if not path.exists():
        raise SourceError(f"missing {path}", hint=f"expected {IMAGES_LAYOUT}")
    if path.is_dir():
        for file in path.rglob("*.png"):
            yield file.name.removesuffix(".png"), file.read_bytes()
        return
    try:
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(".png"):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield Path(member.name).name.removesuffix(".png"), handle.read()
    except (tarfile.TarError, OSError, EOFError) as error:
        hint = f"expected {IMAGES_LAYOUT}"
        raise SourceError(f"cannot read {path}: {error}", hint=hint) from error


def _write_gray(data: bytes, target: Path, where: str) -> bool:
    """Write the PNG as grayscale; True when it had to be converted (RGB, palette, alpha).

    A grayscale PNG is copied byte for byte, undecoded (the header gives its mode).
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.mode in _GRAY_MODES:
                write_atomic(target, lambda path: path.write_bytes(data))
                return False
            gray = image.convert("L")
    except (OSError, ValueError) as error:
        raise SourceError(f"{where}: not a readable PNG ({error})", hint=IMAGES_LAYOUT) from error
    write_atomic(target, lambda path: gray.save(path, format="PNG"))
    return True


def _labelled(studies: list[Study], counts: Counts) -> list[Study]:
    kept = []
    for study in studies:
        if not study.report:
            counts["no FINDINGS or IMPRESSION"] = counts.get("no FINDINGS or IMPRESSION", 0) + 1
        elif not study.headings or NO_INDEXING in study.headings:
            reason = "no MeSH major heading (or No Indexing)"
            counts[reason] = counts.get(reason, 0) + 1
        else:
            kept.append(study)
    return kept


def _table_choice(studies: list[Study], projections: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Per study, the lowest frontal image id by the table; and how many images it lacked."""
    table = read_projections(projections)
    chosen: dict[str, str] = {}
    unlisted = 0
    for study in studies:
        frontal = []
        for image in study.images:
            view = table.get(image_key(image))
            unlisted += view is None
            if view:
                frontal.append(image)
        if frontal:
            chosen[study.study_id] = min(frontal, key=natural_key)
    return chosen, {"images not in the projection table": unlisted}


def _extract(
    studies: list[Study],
    images: Path,
    folder: Path,
    table: dict[str, str] | None,
    progress: Progress,
) -> _Chosen:
    """Stream the images once, writing each study's chosen frontal image into ``folder``."""
    owner = {image: study.study_id for study in studies for image in study.images}
    wanted = set(table.values()) if table is not None else set(owner)
    advance = progress("reading images", len(wanted))
    chosen = _Chosen()
    for image, data in _png_members(images):
        if image not in wanted:
            continue
        advance(1)
        study = owner[image]
        if table is None:
            current = chosen.image.get(study)
            if current is not None and natural_key(current) < natural_key(image):
                continue
            if not looks_frontal(data, image):
                continue
            if current is not None:
                (folder / f"{current}.png").unlink(missing_ok=True)
        chosen.image[study] = image
        chosen.converted[study] = _write_gray(data, folder / f"{image}.png", image)
    return chosen


def _prune(folder: Path, kept: set[str]) -> None:
    """Remove images an earlier build chose and this one did not (the folder is the builder's)."""
    for file in folder.glob("*.png"):
        if file.stem not in kept:
            file.unlink()


_FRAME_COLUMNS = ["sample_id", "image_path", "report", "patient_id", "study_id", "view",
                  "converted_to_gray", "mesh_major", "headings"]  # fmt: skip


def _frame(studies: list[Study], chosen: _Chosen, absent: set[str], counts: Counts) -> pd.DataFrame:
    """One row per study with a frontal image; the others counted (``absent``: the table named
    a frontal image that the copy lacks)."""
    rows = []
    for study in studies:
        image = chosen.image.get(study.study_id)
        if image is None:
            reason = (
                "frontal image not in the copy" if study.study_id in absent else "no frontal image"
            )
            counts[reason] = counts.get(reason, 0) + 1
            continue
        rows.append(
            {
                "sample_id": image,
                "image_path": f"{image}.png",
                "report": study.report,
                "patient_id": study.study_id,
                "study_id": study.study_id,
                "view": "frontal",
                "converted_to_gray": chosen.converted[study.study_id],
                "mesh_major": "; ".join(study.major),
                "headings": study.headings,
            }
        )
    return pd.DataFrame(rows, columns=_FRAME_COLUMNS)


def _labels(frame: pd.DataFrame, task: str) -> pd.Series:
    heading = NORMAL if task == "iu-normal" else IU_XRAY_FINDINGS[task]
    positive = frame["headings"].map(lambda headings: heading in headings)
    return positive.astype(int)


def build_iu_xray(
    reports: Path,
    images: Path,
    out: Path,
    *,
    projections: Path | None = None,
    tasks: tuple[str, ...] = tuple(IU_XRAY_TASKS),
    min_positives: int = MIN_POSITIVES,
    progress: Progress = no_progress,
) -> IuBuild:
    """Build the IU X-ray tasks under ``out`` (one folder per task, images in a shared folder)."""
    unknown = [task for task in tasks if task not in IU_XRAY_TASKS]
    if unknown:
        raise SourceError(
            f"unknown IU X-ray task(s) {', '.join(unknown)}",
            hint=f"one of {', '.join(IU_XRAY_TASKS)}",
        )
    result = IuBuild()
    studies = _labelled(read_studies(reports), result.counts)
    folder = out / IMAGES_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    table, view_counts = (None, {})
    if projections is not None:
        table, view_counts = _table_choice(studies, projections)
    chosen = _extract(studies, images, folder, table, progress)
    _prune(folder, set(chosen.image.values()))
    absent = set(table or {}) - set(chosen.image)
    frame = _frame(studies, chosen, absent, result.counts)
    views = _views(projections, view_counts)
    sources = {"reports": str(reports.resolve()), "images": str(images.resolve())}
    for name in tasks:
        labelled = frame.assign(label=_labels(frame, name))
        positives = int(labelled["label"].sum())
        if name != "iu-normal" and positives < min_positives:
            result.skipped[name] = f"{positives} positives, fewer than {min_positives}"
            continue
        builder = _builder(name, sources, views, labelled, min_positives)
        columns = [column for column in labelled.columns if column != "headings"]
        result.manifests.append(
            write_task(
                out / name,
                labelled[columns],
                IU_XRAY_TASKS[name],
                str(folder.resolve()),
                builder,
                Counts(result.counts),
            )
        )
    return result


def _views(projections: Path | None, view_counts: dict[str, int]) -> dict[str, Any]:
    if projections is None:
        return {
            "source": ViewSource.HEURISTIC.value,
            "symmetry_threshold": SYMMETRY_THRESHOLD,
            "accuracy": "2 of 2 public NIH frontal radiographs called frontal; laterals unmeasured",
        }
    return {"source": ViewSource.TABLE.value, "table": str(projections.resolve()), **view_counts}


def _builder(
    name: str,
    sources: dict[str, str],
    views: dict[str, Any],
    frame: pd.DataFrame,
    min_positives: int,
) -> dict[str, Any]:
    heading = NORMAL if name == "iu-normal" else IU_XRAY_FINDINGS[name]
    return {
        "name": "iu-xray",
        "task": name,
        "dataset": "Indiana University chest X-rays (Open-i, NLM), CC BY-NC-ND 4.0",
        "sources": sources,
        "views": views,
        "options": {
            "label": f"MeSH major heading {heading!r} vs every other coded study",
            "report": "FINDINGS + IMPRESSION (IMPRESSION alone without FINDINGS), XXXX tokens out",
            "one_image_per_study": True,
            "patient_id": "study id (one exam per patient)",
            "min_positives": min_positives,
        },
        "positives": int(frame["label"].sum()),
        "samples": len(frame),
        "converted_to_gray": int(frame["converted_to_gray"].sum()),
    }
