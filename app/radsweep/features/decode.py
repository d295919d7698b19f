"""Radiograph decoding for extraction: any supported file to one 8-bit grayscale PIL image.

Encoders receive the same kind of image whatever the source: 16-bit PNGs and float TIFFs are
min-max rescaled (PIL's own conversion would clip them at 255), RGB is reduced to luminance, and
DICOM goes through its modality and VOI LUTs with MONOCHROME1 inverted, so bright means dense
everywhere. Anything else is a *bad image*: extraction stops on it unless told to skip it.
"""

from pathlib import Path

import numpy as np
import pydicom
from PIL import Image, UnidentifiedImageError
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut

DECODE_ID = "gray8-v1"
"""Names this decoding policy in cache keys: change it whenever decoding changes pixels."""

_RESCALED_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
ACCEPTED_MODES = frozenset({"L", "RGB"}) | _RESCALED_MODES
_MONOCHROME = frozenset({"MONOCHROME1", "MONOCHROME2"})
_DICOM_SUFFIXES = frozenset({".dcm", ".dicom"})


class BadImage(Exception):
    """An image extraction cannot use; the message is the reason (no path, no pixel data)."""


def _is_dicom(path: Path) -> bool:
    if path.suffix.lower() in _DICOM_SUFFIXES:
        return True
    with path.open("rb") as handle:
        handle.seek(128)
        return handle.read(4) == b"DICM"


def _to_gray8(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, np.uint8)
    return np.round((values - low) * (255.0 / (high - low))).astype(np.uint8)


def _read_dicom(path: Path, pixels: bool) -> pydicom.Dataset:
    """The DICOM dataset (header only unless ``pixels``) if it holds one grayscale radiograph."""
    try:
        dataset = pydicom.dcmread(path, stop_before_pixels=not pixels)
    except (InvalidDicomError, OSError, ValueError, EOFError) as error:
        raise BadImage(f"unreadable DICOM ({type(error).__name__})") from error
    photometric = str(dataset.get("PhotometricInterpretation", ""))
    if photometric not in _MONOCHROME:
        raise BadImage(f"unexpected DICOM photometric interpretation {photometric or '(none)'}")
    if int(dataset.get("NumberOfFrames", 1) or 1) != 1:
        raise BadImage("multi-frame DICOM (expected one radiograph)")
    if pixels and "PixelData" not in dataset:
        raise BadImage("DICOM without pixel data")
    return dataset


def _decode_dicom(path: Path) -> Image.Image:
    dataset = _read_dicom(path, pixels=True)
    try:
        values = apply_voi_lut(apply_modality_lut(dataset.pixel_array, dataset), dataset)
    except (ValueError, RuntimeError, AttributeError) as error:
        raise BadImage(f"undecodable DICOM pixel data ({type(error).__name__})") from error
    gray = _to_gray8(values)
    if dataset.PhotometricInterpretation == "MONOCHROME1":
        gray = 255 - gray
    return Image.fromarray(gray)


def _open(path: Path) -> Image.Image:
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as error:
        raise BadImage(f"image too large to decode safely ({error})") from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise BadImage(f"unreadable image ({type(error).__name__})") from error
    if image.mode not in ACCEPTED_MODES:
        image.close()
        raise BadImage(f"unexpected image mode {image.mode} (expected grayscale or RGB)")
    return image


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise BadImage("file not found")
    if path.stat().st_size == 0:
        raise BadImage("empty file (0 bytes)")


def check_image(path: Path) -> None:
    """Cheap header-level check (no pixel decoding): raise BadImage for what it can see."""
    _check_file(path)
    if _is_dicom(path):
        _read_dicom(path, pixels=False)
    else:
        _open(path).close()


def decode_image(path: Path) -> Image.Image:
    """The radiograph at ``path`` as an 8-bit grayscale ("L") image, or BadImage."""
    _check_file(path)
    if _is_dicom(path):
        return _decode_dicom(path)
    with _open(path) as image:
        try:
            image.load()
        except (OSError, ValueError, SyntaxError) as error:
            raise BadImage(f"truncated or corrupt image data ({type(error).__name__})") from error
        if image.mode == "L":
            return image.copy()
        if image.mode == "RGB":
            return image.convert("L")
        return Image.fromarray(_to_gray8(np.asarray(image)))
