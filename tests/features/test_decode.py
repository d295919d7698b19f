from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from radsweep.features.decode import BadImage, check_image, decode_image

GRADIENT = np.tile(np.arange(0, 4000, 125, dtype=np.uint16), (8, 1))  # 8 x 32, 12-bit values


def write_dicom(path: Path, pixels: np.ndarray, photometric: str = "MONOCHROME2") -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    if pixels.ndim == 3:
        dataset.set_pixel_data(pixels, "RGB", 8)
    else:
        dataset.set_pixel_data(pixels, photometric, 12)
    dataset.save_as(path, enforce_file_format=True)
    return path


def test_8_bit_grayscale_is_passed_through(tmp_path: Path) -> None:
    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8) * 3
    cv2.imwrite(str(tmp_path / "a.png"), pixels)
    image = decode_image(tmp_path / "a.png")
    assert image.mode == "L" and np.array_equal(np.asarray(image), pixels)


def test_16_bit_images_are_rescaled_not_clipped(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), GRADIENT)
    values = np.asarray(decode_image(tmp_path / "a.png"))
    assert values.min() == 0 and values.max() == 255
    assert np.all(np.diff(values[0].astype(int)) >= 0)  # order kept, not saturated at 255


def test_rgb_becomes_luminance(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4), (200, 200, 200)).save(tmp_path / "a.png")
    image = decode_image(tmp_path / "a.png")
    assert image.mode == "L" and np.asarray(image)[0, 0] == 200


def test_dicom_monochrome1_is_inverted(tmp_path: Path) -> None:
    normal = decode_image(write_dicom(tmp_path / "m2.dcm", GRADIENT, "MONOCHROME2"))
    inverted = decode_image(write_dicom(tmp_path / "m1.dcm", GRADIENT, "MONOCHROME1"))
    assert np.asarray(normal)[0, 0] == 0 and np.asarray(normal)[0, -1] == 255
    assert np.array_equal(np.asarray(inverted), 255 - np.asarray(normal))


def test_dicom_is_recognised_without_its_suffix(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "image.dcm", GRADIENT)
    path = path.rename(tmp_path / "image-without-suffix")
    assert decode_image(path).size == (32, 8)


def _zero_bytes(folder: Path) -> Path:
    (folder / "a.png").touch()
    return folder / "a.png"


def _garbage(folder: Path) -> Path:
    (folder / "a.png").write_bytes(b"this is not an image at all" * 10)
    return folder / "a.png"


def _rgba(folder: Path) -> Path:
    Image.new("RGBA", (4, 4)).save(folder / "a.png")
    return folder / "a.png"


def _palette(folder: Path) -> Path:
    Image.new("P", (4, 4)).save(folder / "a.png")
    return folder / "a.png"


def _colour_dicom(folder: Path) -> Path:
    return write_dicom(folder / "a.dcm", np.zeros((4, 4, 3), np.uint8))


def _broken_dicom(folder: Path) -> Path:
    (folder / "a.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00garbage")
    return folder / "a.dcm"


def _missing(folder: Path) -> Path:
    return folder / "absent.png"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_zero_bytes, "empty file"),
        (_garbage, "unreadable image"),
        (_rgba, "unexpected image mode RGBA"),
        (_palette, "unexpected image mode P"),
        (_colour_dicom, "photometric interpretation RGB"),
        (_broken_dicom, "photometric interpretation \\(none\\)"),
        (_missing, "file not found"),
    ],
)
def test_bad_images_are_caught_by_the_header_check(
    tmp_path: Path, make: object, reason: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(BadImage, match=reason):
        check_image(path)
    with pytest.raises(BadImage, match=reason):
        decode_image(path)


def test_truncated_files_pass_the_header_check_but_not_decoding(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cv2.imwrite(str(tmp_path / "a.png"), rng.integers(0, 256, (64, 64), dtype=np.uint8))
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "a.png").write_bytes(data[: len(data) // 2])
    check_image(tmp_path / "a.png")
    with pytest.raises(BadImage, match="truncated or corrupt"):
        decode_image(tmp_path / "a.png")


def test_truncated_dicom_pixel_data_fails_decoding(tmp_path: Path) -> None:
    data = write_dicom(tmp_path / "a.dcm", GRADIENT).read_bytes()
    (tmp_path / "a.dcm").write_bytes(data[:-100])
    check_image(tmp_path / "a.dcm")
    with pytest.raises(BadImage, match="undecodable DICOM pixel data"):
        decode_image(tmp_path / "a.dcm")


def test_a_decompression_bomb_is_a_bad_image_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bomb.png"
    cv2.imwrite(str(path), np.zeros((64, 64), np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4096 px is beyond twice the limit
    for read in (check_image, decode_image):
        with pytest.raises(BadImage, match="too large to decode safely"):
            read(path)
