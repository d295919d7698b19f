"""Which Open-i images are frontal: the file name does not say (a ``-1001`` image can be lateral).

Two sources, recorded in task.json: a projection table (file name -> Frontal/Lateral, as the
widely used Kaggle copy ships it as ``indiana_projections.csv``), or an image heuristic. The
heuristic scores left-right mirror symmetry: a frontal chest radiograph shows two lung fields
either side of the spine, a lateral one does not. Each row's mean is removed first so vertical
brightness trends do not count as symmetry. Measured on the two public NIH frontal radiographs
(docs/iu-xray.md): scores 0.65 and 0.42, both above the threshold; no public lateral was at hand
to measure the other side, so the table is preferred whenever the user has one.
"""

import io
import re
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image

from radsweep.tasks.builders.common import SourceError, read_table

SYMMETRY_THRESHOLD = 0.25
_SIDE = 64
PROJECTIONS_LAYOUT = "a CSV with columns filename and projection (Frontal/Lateral)"
_IMAGE_NUMBER = re.compile(r"IM-\d+-\d+")


class ViewSource(StrEnum):
    """Where a build took the views from."""

    TABLE = "projection table"
    HEURISTIC = "image symmetry heuristic"


def image_key(name: str) -> tuple[str, str]:
    """A key shared by the official and the Kaggle file names of one image.

    Official ``CXR1_1_IM-0001-4001.png`` and Kaggle ``1_IM-0001-4001.dcm.png`` both become
    ``("1", "IM-0001-4001")``: the study number and the DICOM image number.
    """
    stem = Path(name).name.removesuffix(".png").removesuffix(".dcm")
    stem = stem.removeprefix("CXR")
    study = re.match(r"\d+", stem)
    number = _IMAGE_NUMBER.search(stem)
    return (study.group(0) if study else "", number.group(0) if number else stem)


def read_projections(path: Path) -> dict[tuple[str, str], bool]:
    """Image key -> frontal, from a projection table."""
    frame = read_table(path, ["filename", "projection"], PROJECTIONS_LAYOUT, ["filename"])
    views = frame["projection"].astype(str).str.strip().str.lower()
    return {
        image_key(name): view == "frontal"
        for name, view in zip(frame["filename"].astype(str), views, strict=True)
    }


def symmetry_score(image: Image.Image) -> float:
    """Correlation of the row-centred image with its mirror image (1: perfectly symmetric)."""
    gray = image.convert("F") if image.mode.startswith("I") else image.convert("L")  # 16-bit kept
    pixels = np.asarray(gray.resize((_SIDE, _SIDE), Image.BILINEAR), np.float64)
    centred = pixels - pixels.mean(axis=1, keepdims=True)
    mirrored = centred[:, ::-1]
    norm = np.sqrt((centred**2).sum() * (mirrored**2).sum())
    return float((centred * mirrored).sum() / norm) if norm > 0 else 0.0


def looks_frontal(data: bytes, where: str = "image") -> bool:
    """The heuristic's call for one PNG; an unreadable one is an error naming it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return symmetry_score(image) >= SYMMETRY_THRESHOLD
    except (OSError, ValueError) as error:
        raise SourceError(f"{where}: not a readable PNG ({error})", hint="re-fetch it") from error
