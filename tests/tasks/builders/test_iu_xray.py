"""IU X-ray (Open-i) builder: labels, exclusions, reports and groups against the XML itself."""

import re
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from radsweep.errors import RadsweepError
from radsweep.tasks.builders.common import SourceError
from radsweep.tasks.builders.iu_xray import IMAGES_FOLDER, build_iu_xray
from radsweep.tasks.builders.iu_xray_reports import clean_text
from radsweep.tasks.builders.iu_xray_views import image_key, looks_frontal, symmetry_score
from radsweep.tasks.manifest import Manifest
from tests.tasks.builders.iu_fixtures import IuCopy, radiograph, write_iu_copy

PUBLIC = Path(__file__).parents[2] / "public_samples"

# Each fixture sentence and its text once every XXXX token is gone, written out by hand.
CLEANED = {
    "The XXXX-year-old heart is normal in size. No pneumothorax. Lungs are clear x-XXXX.": (
        "The heart is normal in size. No pneumothorax. Lungs are clear."
    ),
    "Heart size is enlarged. There is patchy opacity at the left base. XXXX XXXX are intact.": (
        "Heart size is enlarged. There is patchy opacity at the left base. are intact."
    ),
    "Streaky atelectasis at the right base. Calcified granuloma in the right upper lobe.": (
        "Streaky atelectasis at the right base. Calcified granuloma in the right upper lobe."
    ),
    "The heart is enlarged. Left basilar atelectasis. No pleural effusion or pneumothorax.": (
        "The heart is enlarged. Left basilar atelectasis. No pleural effusion or pneumothorax."
    ),
    "Lungs are clear. Heart size normal. No XXXX of pneumothorax.": (
        "Lungs are clear. Heart size normal. No of pneumothorax."
    ),
    "Opacity at the right base. Degenerative changes of the thoracic spine.": (
        "Opacity at the right base. Degenerative changes of the thoracic spine."
    ),
    "No acute cardiopulmonary disease. No cardiomegaly.": (
        "No acute cardiopulmonary disease. No cardiomegaly."
    ),
    "Cardiomegaly with basilar opacity, stable since XXXX.": (
        "Cardiomegaly with basilar opacity, stable since."
    ),
    "Right basilar atelectasis (XXXX).": "Right basilar atelectasis.",
    "Cardiomegaly and atelectasis.": "Cardiomegaly and atelectasis.",
    "Normal chest x-XXXX.": "Normal chest.",
    "Right basilar opacity, XXXX pneumonia.": "Right basilar opacity, pneumonia.",
    "Normal chest x-XXXX. No effusion.": "Normal chest. No effusion.",
    "Lateral view only.": "Lateral view only.",
    "No acute disease.": "No acute disease.",
    "Limited exam.": "Limited exam.",
    "See XXXX.": "See.",
    "Heart is enlarged.": "Heart is enlarged.",
    "Cardiomegaly.": "Cardiomegaly.",
}
HEADINGS = {"iu-normal": "normal", "iu-cardiomegaly": "cardiomegaly", "iu-opacity": "opacity",
            "iu-atelectasis": "pulmonary atelectasis"}  # fmt: skip


@pytest.fixture(scope="module")
def iu_copy(tmp_path_factory: pytest.TempPathFactory) -> IuCopy:
    return write_iu_copy(tmp_path_factory.mktemp("open-i"))


def _natural(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _expected(copy: IuCopy) -> tuple[pd.DataFrame, dict[str, int]]:
    """Each study the builder should keep, read from the XML files in the archive directly."""
    frontal = {image.image_id for study in copy.studies for image in study.images if image.frontal}
    rows, dropped = [], {}
    with tarfile.open(copy.reports) as archive:
        for member in archive.getmembers():
            root = ET.parse(archive.extractfile(member)).getroot()
            texts = {node.get("Label"): node.text for node in root.iter("AbstractText")}
            parts = [
                f"{label}: {CLEANED[texts[label]]}"
                for label in ("FINDINGS", "IMPRESSION")
                if texts.get(label)
            ]
            codes = {node.text.split("/")[0].lower() for node in root.iter("major")}
            images = [node.get("id") for node in root.iter("parentImage")]
            fronts = sorted((image for image in images if image in frontal), key=_natural)
            reason = (
                "no FINDINGS or IMPRESSION" if not parts
                else "no MeSH major heading (or No Indexing)" if "no indexing" in codes
                else "no frontal image" if not fronts
                else None
            )  # fmt: skip
            if reason:
                dropped[reason] = dropped.get(reason, 0) + 1
                continue
            row = {"sample_id": fronts[0], "patient_id": root.find("uId").get("id")}
            row["report"] = "\n".join(parts)
            rows.append(row | {task: int(code in codes) for task, code in HEADINGS.items()})
    return pd.DataFrame(rows).set_index("sample_id").sort_index(), dropped


@pytest.mark.parametrize("with_table", [True, False], ids=["projection-table", "heuristic"])
def test_tasks_match_what_the_xml_says(iu_copy: IuCopy, tmp_path: Path, with_table: bool) -> None:
    table = iu_copy.projections if with_table else None
    built = build_iu_xray(
        iu_copy.reports, iu_copy.images, tmp_path, projections=table, min_positives=2
    )
    expected, dropped = _expected(iu_copy)
    assert set(dropped) == {
        "no FINDINGS or IMPRESSION",
        "no MeSH major heading (or No Indexing)",
        "no frontal image",
    }
    assert [manifest.task.name for manifest in built.manifests] == list(HEADINGS)
    for manifest in built.manifests:
        frame = Manifest.load(manifest.directory).frame.set_index("sample_id").sort_index()
        assert frame.index.tolist() == expected.index.tolist()  # one frontal image per study
        assert frame["label"].tolist() == expected[manifest.task.name].tolist()
        assert frame["report"].tolist() == expected["report"].tolist()
        assert frame["patient_id"].tolist() == expected["patient_id"].tolist()
        assert frame["study_id"].tolist() == expected["patient_id"].tolist()
        assert not frame["report"].str.contains("XXXX|-year-old").any()
        builder = manifest.info.builder
        assert builder["counts"] == dropped
        assert builder["views"]["source"] == (
            "projection table" if with_table else "image symmetry heuristic"
        )
        assert builder["positives"] == int(expected[manifest.task.name].sum())
    converted = frame.index[frame["converted_to_gray"]].tolist()
    assert converted == [
        image.image_id for study in iu_copy.studies for image in study.images if image.rgb
    ]
    for sample in frame.index:
        with Image.open(tmp_path / IMAGES_FOLDER / f"{sample}.png") as image:
            assert image.mode == "L"
    assert len(list((tmp_path / IMAGES_FOLDER).iterdir())) == len(frame)


def test_every_minus_1001_lateral_is_passed_over(iu_copy: IuCopy, tmp_path: Path) -> None:
    built = build_iu_xray(
        iu_copy.reports, iu_copy.images, tmp_path, projections=iu_copy.projections,
        tasks=("iu-normal",),
    )  # fmt: skip
    chosen = set(built.manifests[0].frame["sample_id"])
    laterals = {
        image.image_id for study in iu_copy.studies for image in study.images if not image.frontal
    }
    assert any(name.endswith("-1001") for name in laterals)
    assert not chosen & laterals


def test_a_rebuild_leaves_only_the_images_its_manifests_name(
    iu_copy: IuCopy, tmp_path: Path
) -> None:
    folder = tmp_path / IMAGES_FOLDER
    folder.mkdir()
    radiograph(frontal=True, seed=1).save(folder / "CXR9999_IM-9999-1001.png")
    built = build_iu_xray(iu_copy.reports, iu_copy.images, tmp_path, tasks=("iu-normal",))
    names = {path.name for path in folder.iterdir()}
    assert names == set(built.manifests[0].frame["image_path"])


def test_a_finding_with_too_few_positives_is_skipped_and_said(
    iu_copy: IuCopy, tmp_path: Path
) -> None:
    built = build_iu_xray(iu_copy.reports, iu_copy.images, tmp_path, min_positives=1000)
    assert [manifest.task.name for manifest in built.manifests] == ["iu-normal"]
    assert set(built.skipped) == {"iu-cardiomegaly", "iu-opacity", "iu-atelectasis"}
    assert "fewer than 1000" in built.skipped["iu-opacity"]


def test_extracted_folders_build_the_same_tasks(iu_copy: IuCopy, tmp_path: Path) -> None:
    folders = {}
    for name, archive in (("reports", iu_copy.reports), ("images", iu_copy.images)):
        with tarfile.open(archive) as opened:
            opened.extractall(tmp_path / name, filter="data")
        folders[name] = tmp_path / name
    from_folders = build_iu_xray(folders["reports"], folders["images"], tmp_path / "a")
    from_archives = build_iu_xray(iu_copy.reports, iu_copy.images, tmp_path / "b")
    columns = ["sample_id", "report", "label", "patient_id"]
    for left, right in zip(from_folders.manifests, from_archives.manifests, strict=True):
        pd.testing.assert_frame_equal(left.frame[columns], right.frame[columns])


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("A XXXX-year-old man.", "A man."),
        ("Normal chest x-XXXX.", "Normal chest."),
        ("XXXX XXXX are normal.", "are normal."),
        ("Seen on XXXX, stable.", "Seen on stable."),
        ("  Clear   lungs.\n", "Clear lungs."),
        ("Compared to XXXX.", "Compared to."),
        ("XXXX.", ""),
        (None, ""),
    ],
)
def test_xxxx_tokens_go_whole(text: str | None, cleaned: str) -> None:
    assert clean_text(text) == cleaned


@pytest.mark.parametrize(
    ("official", "kaggle"),
    [
        ("CXR1_1_IM-0001-4001.png", "1_IM-0001-4001.dcm.png"),
        ("CXR3399_IM-1643-2001.png", "3399_IM-1643-2001.dcm.png"),
    ],
)
def test_official_and_kaggle_names_share_a_key(official: str, kaggle: str) -> None:
    assert image_key(official) == image_key(kaggle)
    assert image_key(official) != image_key("CXR1_1_IM-0001-3001.png")


def test_the_heuristic_calls_the_public_frontal_radiographs_frontal() -> None:
    """The measurement docs/iu-xray.md reports: both NIH frontal PNGs, and their mirror images."""
    for name in ("00000001_000.png", "00027426_000.png"):
        data = (PUBLIC / name).read_bytes()
        assert looks_frontal(data)
        with Image.open(PUBLIC / name) as image:
            mirrored = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            assert symmetry_score(mirrored) == pytest.approx(symmetry_score(image))
    assert symmetry_score(radiograph(frontal=False, seed=0)) < 0


def test_a_broken_archive_is_one_error_naming_it(tmp_path: Path, iu_copy: IuCopy) -> None:
    broken = tmp_path / "NLMCXR_reports.tgz"
    broken.write_bytes(iu_copy.reports.read_bytes()[:200])
    with pytest.raises(SourceError, match=r"cannot read .*NLMCXR_reports\.tgz"):
        build_iu_xray(broken, iu_copy.images, tmp_path / "out")


@pytest.mark.parametrize("with_table", [True, False], ids=["projection-table", "heuristic"])
def test_an_unreadable_png_is_one_error_naming_it(
    iu_copy: IuCopy, tmp_path: Path, with_table: bool
) -> None:
    folder = tmp_path / "png"
    with tarfile.open(iu_copy.images) as archive:
        archive.extractall(folder, filter="data")
    broken = sorted(folder.glob("*-2001.png"))[0]  # frontal in every even study
    broken.write_bytes(b"not a png")
    table = iu_copy.projections if with_table else None
    with pytest.raises(SourceError, match=f"{broken.stem}: not a readable PNG"):
        build_iu_xray(iu_copy.reports, folder, tmp_path / "out", projections=table)


def test_sixteen_bit_radiographs_are_scored_on_their_full_range() -> None:
    """A 16-bit PNG squeezed into 8 bits would saturate to white and look symmetric."""
    for frontal in (True, False):
        eight = np.asarray(radiograph(frontal, seed=3), np.uint16)
        sixteen = Image.fromarray(eight * 250)  # values up to 63,750: mode I;16
        assert sixteen.mode == "I;16"
        score = symmetry_score(radiograph(frontal, seed=3))
        assert symmetry_score(sixteen) == pytest.approx(score, abs=0.02)


def test_missing_frontal_images_are_counted_once_and_no_frontal_at_all_is_one_error(
    iu_copy: IuCopy, tmp_path: Path
) -> None:
    folder = tmp_path / "png"
    with tarfile.open(iu_copy.images) as archive:
        archive.extractall(folder, filter="data")
    (folder / "CXR2_IM-0002-2001.png").unlink()  # study 2's only frontal image
    built = build_iu_xray(
        iu_copy.reports, folder, tmp_path / "a", projections=iu_copy.projections,
        tasks=("iu-normal",),
    )  # fmt: skip
    counts = built.manifests[0].info.builder["counts"]
    assert counts["frontal image not in the copy"] == 1 and counts["no frontal image"] == 1
    lateral_only = tmp_path / "lateral.csv"
    table = iu_copy.projections.read_text().replace("Frontal", "Lateral")
    lateral_only.write_text(table)
    with pytest.raises(RadsweepError, match="no samples left for task iu-normal"):
        build_iu_xray(iu_copy.reports, folder, tmp_path / "b", projections=lateral_only)
