"""A made-up copy of the IU X-ray (Open-i) collection in its published layout, as .tgz archives.

XML reports as ``ecgen-radiology/<n>.xml`` (uId, AbstractText sections, MeSH major/automatic,
parentImage), PNG images named ``<parentImage id>.png``, and a Kaggle-style projection table.
Every sentence, code and picture is invented; the pitfalls of the real collection are all here:
XXXX tokens, missing sections, laterals named -1001, an RGB image, a study with no frontal
image, a study coded No Indexing, and negated mentions of findings the study is not coded with.
"""

import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw


@dataclass
class FixtureImage:
    image_id: str
    frontal: bool
    rgb: bool = False


@dataclass
class FixtureStudy:
    number: int
    sections: dict[str, str]
    major: list[str]
    images: list[FixtureImage] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return f"CXR{self.number}"


@dataclass
class IuCopy:
    reports: Path
    images: Path
    projections: Path
    studies: list[FixtureStudy]


def radiograph(frontal: bool, seed: int, side: int = 96) -> Image.Image:
    """A frontal picture is two dark lung fields mirrored about the spine; a lateral is not."""
    rng = np.random.default_rng(seed)
    image = Image.new("L", (side, side), 200)
    draw = ImageDraw.Draw(image)
    if frontal:
        width = int(side * rng.uniform(0.26, 0.32))
        for left in (side // 2 - 6 - width, side // 2 + 6):
            draw.ellipse([left, side * 0.15, left + width, side * 0.85], fill=60)
    else:
        draw.ellipse([side * 0.05, side * 0.2, side * 0.6, side * 0.8], fill=70)
        draw.rectangle([side * 0.78, 0, side * 0.9, side], fill=240)
    pixels = np.asarray(image, np.float64) + rng.normal(0, 8, (side, side))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")


def _xml(study: FixtureStudy) -> str:
    sections = "".join(
        f'<AbstractText Label="{label}">{escape(text)}</AbstractText>'
        for label, text in study.sections.items()
    )
    major = "".join(f"<major>{escape(term)}</major>" for term in study.major)
    images = "".join(
        f'<parentImage id="{image.image_id}"><figureId>F{n}</figureId>'
        f"<caption>Xray Chest PA and Lateral</caption></parentImage>"
        for n, image in enumerate(study.images, 1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><eCitation>'
        f'<meta type="rr"/><uId id="{study.uid}"/><pmcId id="{study.number}"/>'
        f"<MedlineCitation><Article><Journal>Indiana University</Journal><Abstract>{sections}"
        f"</Abstract></Article></MedlineCitation><MeSH>{major}"
        "<automatic>Cardiomegaly</automatic></MeSH>"
        f"{images}</eCitation>"
    )


_FINDINGS = [
    "The XXXX-year-old heart is normal in size. No pneumothorax. Lungs are clear x-XXXX.",
    "Heart size is enlarged. There is patchy opacity at the left base. XXXX XXXX are intact.",
    "Streaky atelectasis at the right base. Calcified granuloma in the right upper lobe.",
    "The heart is enlarged. Left basilar atelectasis. No pleural effusion or pneumothorax.",
    "Lungs are clear. Heart size normal. No XXXX of pneumothorax.",
    "Opacity at the right base. Degenerative changes of the thoracic spine.",
]
_IMPRESSIONS = [
    "No acute cardiopulmonary disease. No cardiomegaly.",
    "Cardiomegaly with basilar opacity, stable since XXXX.",
    "Right basilar atelectasis (XXXX).",
    "Cardiomegaly and atelectasis.",
    "Normal chest x-XXXX.",
    "Right basilar opacity, XXXX pneumonia.",
]
_HEADINGS = [
    ["normal"],
    ["Cardiomegaly/mild", "Opacity/lung/base/left"],
    ["Pulmonary Atelectasis/base/right", "Calcified Granuloma/lung/upper lobe/right"],
    ["Cardiomegaly", "Pulmonary Atelectasis/base/left/mild"],
    ["normal"],
    ["Opacity/lung/base/right", "Thoracic Vertebrae/degenerative"],
]


def _image_ids(number: int) -> tuple[str, str]:
    """Two views; the DICOM image number does not say which is frontal."""
    prefix = f"CXR{number}_1_IM-{number:04d}" if number % 5 == 0 else f"CXR{number}_IM-{number:04d}"
    return f"{prefix}-1001", f"{prefix}-2001"


def make_studies(count: int) -> list[FixtureStudy]:
    """``count`` regular studies plus one of each special case (numbers after them)."""
    studies = []
    for number in range(1, count + 1):
        first, second = _image_ids(number)
        lateral_first = number % 2 == 0  # half the -1001 images are laterals
        images = [FixtureImage(first, not lateral_first), FixtureImage(second, lateral_first)]
        sections = {
            "COMPARISON": "None.",
            "INDICATION": "XXXX-year-old male with chest pain.",
            "FINDINGS": _FINDINGS[number % 6],
            "IMPRESSION": _IMPRESSIONS[number % 6],
        }
        studies.append(FixtureStudy(number, sections, list(_HEADINGS[number % 6]), images))
    special = count + 1
    only_impression = FixtureStudy(
        special, {"INDICATION": "Cough.", "IMPRESSION": "Normal chest x-XXXX. No effusion."},
        ["normal"], [FixtureImage(f"CXR{special}_IM-{special:04d}-1001", True)],
    )  # fmt: skip
    neither = FixtureStudy(
        special + 1, {"COMPARISON": "XXXX.", "INDICATION": "Dyspnea."}, ["normal"],
        [FixtureImage(f"CXR{special + 1}_IM-{special + 1:04d}-1001", True)],
    )  # fmt: skip
    no_frontal = FixtureStudy(
        special + 2, {"FINDINGS": "Lateral view only.", "IMPRESSION": "No acute disease."},
        ["Cardiomegaly"], [FixtureImage(f"CXR{special + 2}_IM-{special + 2:04d}-1001", False)],
    )  # fmt: skip
    no_indexing = FixtureStudy(
        special + 3, {"FINDINGS": "Limited exam.", "IMPRESSION": "See XXXX."}, ["No Indexing"],
        [FixtureImage(f"CXR{special + 3}_IM-{special + 3:04d}-1001", True)],
    )  # fmt: skip
    rgb = FixtureStudy(
        special + 4, {"FINDINGS": "Heart is enlarged.", "IMPRESSION": "Cardiomegaly."},
        ["Cardiomegaly/severe"],
        [FixtureImage(f"CXR{special + 4}_IM-{special + 4:04d}-1001", False),
         FixtureImage(f"CXR{special + 4}_IM-{special + 4:04d}-2001", True, rgb=True),
         FixtureImage(f"CXR{special + 4}_IM-{special + 4:04d}-3001", True)],
    )  # fmt: skip
    return [*studies, only_impression, neither, no_frontal, no_indexing, rgb]


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def _png(image: FixtureImage, seed: int) -> bytes:
    picture = radiograph(image.frontal, seed)
    if image.rgb:
        picture = Image.merge("RGB", (picture, picture, picture))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _kaggle_name(image_id: str) -> str:
    """The Kaggle copy's name: study number, the DICOM image number, ``.dcm.png``."""
    number, rest = image_id.removeprefix("CXR").split("_", 1)
    return f"{number}_{rest.split('_')[-1]}.dcm.png"


def write_iu_copy(root: Path, count: int = 36) -> IuCopy:
    """Write NLMCXR_reports.tgz, NLMCXR_png.tgz and indiana_projections.csv under ``root``."""
    studies = make_studies(count)
    root.mkdir(parents=True, exist_ok=True)
    reports, images = root / "NLMCXR_reports.tgz", root / "NLMCXR_png.tgz"
    with tarfile.open(reports, "w:gz") as archive:
        for study in studies:
            _add(archive, f"ecgen-radiology/{study.number}.xml", _xml(study).encode())
    rows = ["uid,filename,projection"]
    with tarfile.open(images, "w:gz") as archive:
        for seed, (study, image) in enumerate((s, i) for s in studies for i in s.images):
            _add(archive, f"{image.image_id}.png", _png(image, seed))
            view = "Frontal" if image.frontal else "Lateral"
            rows.append(f"{study.number},{_kaggle_name(image.image_id)},{view}")
    projections = root / "indiana_projections.csv"
    projections.write_text("\n".join(rows) + "\n")
    return IuCopy(reports, images, projections, studies)
