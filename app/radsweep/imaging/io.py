"""Image I/O: CT volumes in, 8-bit radiographs out (the study's equalisation and JPEG quality)."""

from pathlib import Path

import cv2
import nibabel as nib
import numpy as np

from radsweep.atomic import write_atomic
from radsweep.errors import RadsweepError

JPEG_QUALITY = 95
"""The paper stores every reconstructed radiograph as JPEG with quality factor 95."""


def load_volume(path: Path) -> nib.Nifti1Image:
    """Open a NIfTI volume lazily (voxels are read when used); one-line error if unreadable."""
    try:
        image = nib.load(path)
    except (OSError, ValueError, nib.filebasedimages.ImageFileError) as error:
        raise RadsweepError(
            f"cannot read CT volume {path}: {type(error).__name__}",
            hint="expected a NIfTI file (.nii or .nii.gz); re-download it if it is truncated",
        ) from error
    if not isinstance(image, nib.Nifti1Image) or len(image.shape) != 3:
        raise RadsweepError(
            f"{path} is not a 3-D NIfTI volume (shape {getattr(image, 'shape', None)})",
            hint="pass one CT volume per file",
        )
    return image


def equalised_uint8(projection: np.ndarray) -> np.ndarray:
    """Min-max scale a projection to 8 bits, then equalise its histogram (OpenCV), as the paper."""
    values = np.nan_to_num(projection.astype(np.float64))
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return cv2.equalizeHist(np.round(scaled * 255).astype(np.uint8))


def write_jpeg(path: Path, image: np.ndarray, quality: int = JPEG_QUALITY) -> None:
    """Encode an 8-bit image as JPEG and publish it atomically (a reader never sees half a file)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RadsweepError(f"could not encode {path} as JPEG", hint="is the image 8-bit?")
    write_atomic(path, lambda temporary: temporary.write_bytes(encoded.tobytes()))
