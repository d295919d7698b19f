"""The study's seven image backbones as registry entries.

Each entry states its architecture (built offline by transformers, timm, open_clip or
torchvision), the release's checkpoint format, its preprocessing (Appendix A of the seed, plus
the original repository's where it differs) and a tiny configuration for tests and the demo.
Facts and sources: shared/reference/backbones.md.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from radsweep.encoders.base import EncoderInfo, EncoderKind, ImageEncoder
from radsweep.encoders.checkpoints import (
    RANDOM_WEIGHTS,
    CheckpointFormat,
    HubSource,
    Weights,
    from_hub,
    from_pretrained_strict,
    load_checkpoint,
    random_identity,
    resolve_weights,
    seeded_init,
    weight_file,
)
from radsweep.encoders.preprocess import (
    CLIP_MEAN,
    CLIP_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    Interpolation,
    Preprocessing,
)
from radsweep.encoders.registry import ImageRequest, register_image
from radsweep.encoders.vision import Dinov2Encoder, ResNetEncoder, ViTEncoder, resnet_grid
from radsweep.errors import WeightsError

TINY_RESNET_INPUT = 64  # torchvision ResNet(BasicBlock, [1, 1, 1, 1]): a 2x2 grid of 512-d tokens
TINY_VIT = {"img_size": 64, "embed_dim": 32, "depth": 2, "num_heads": 2}  # 4x4 grid, 32-d
TINY_DINOV2 = {
    "image_size": 56,
    "patch_size": 14,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "mlp_ratio": 2,
}
RAD_DINO_CONFIG = {
    "image_size": 518,
    "patch_size": 14,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "mlp_ratio": 4,
    "layerscale_value": 1.0,
    "layer_norm_eps": 1e-6,
    "qkv_bias": True,
    "use_swiglu_ffn": False,
}
GLORIA_UPSAMPLE = 299


def _info(
    name: str, architecture: str, size: int, grid: int, dim: int, **facts: str
) -> EncoderInfo:
    return EncoderInfo(
        name=name,
        kind=EncoderKind.IMAGE,
        architecture=architecture,
        input_size=size,
        grid=(grid, grid),
        dim=dim,
        has_cls=architecture.startswith("ViT"),
        default_weights=facts["weights"],
        licence=facts["licence"],
    )


def _weights(request: ImageRequest, info: EncoderInfo, hub: HubSource | None) -> Weights | None:
    """The weights to load, or None for seeded random init (tiny by default, or ``"random"``)."""
    if request.weights == RANDOM_WEIGHTS or (request.weights is None and request.tiny):
        return None
    if request.weights is not None:
        return resolve_weights(request.weights, hub)
    if hub is None:
        raise WeightsError(
            f"{info.name} weights are not on the Hugging Face hub ({info.default_weights})",
            hint="download the release and pass --weights /path/to/checkpoint",
        )
    return from_hub(hub)


@dataclass(frozen=True)
class Release:
    """Where a backbone's published weights live and how the file stores them."""

    fmt: CheckpointFormat
    filename: str | None = None  # the file to pick from a folder (None: pass the file itself)
    hub: HubSource | None = None


def _sized(info: EncoderInfo, size: int, grid: int, dim: int) -> EncoderInfo:
    """The built instance's facts: tiny models have their own sizes."""
    return info.model_copy(update={"input_size": size, "grid": (grid, grid), "dim": dim})


# --- architecture families: torchvision ResNet, timm / open_clip ViT ------------------------------


def _resnet(
    request: ImageRequest,
    info: EncoderInfo,
    preprocessing: Preprocessing,
    release: Release,
    upsample: int | None = None,
) -> ImageEncoder:
    """A torchvision ResNet (named by ``info.architecture``) without its classifier ``fc``."""
    import torchvision.models as tv

    weights = _weights(request, info, release.hub)
    with seeded_init():
        if request.tiny:
            net = tv.resnet.ResNet(tv.resnet.BasicBlock, [1, 1, 1, 1])
        else:
            net = tv.get_model(info.architecture.replace("-", "").lower())
    net.fc = torch.nn.Identity()
    if weights is not None:
        load_checkpoint(net, weight_file(weights, release.filename), release.fmt)
    if request.tiny:
        preprocessing = preprocessing.scaled(TINY_RESNET_INPUT)
        upsample = upsample and round(upsample * TINY_RESNET_INPUT / info.input_size)
    size = preprocessing.crop
    return ResNetEncoder(
        net,
        upsample,
        info=_sized(info, size, resnet_grid(upsample or size), net.inplanes),
        weights_identity=weights.identity if weights else random_identity(request.tiny),
        preprocessing=preprocessing,
        variant=request.variant,
    )


def _vit(
    request: ImageRequest,
    info: EncoderInfo,
    preprocessing: Preprocessing,
    release: Release,
    build: Callable[[bool], torch.nn.Module],
) -> ImageEncoder:
    """A ViT that ``build(tiny)`` constructs; tokens from its (trunk's) ``forward_features``."""
    weights = _weights(request, info, release.hub)
    with seeded_init():
        model = build(request.tiny)
    if weights is not None:
        load_checkpoint(model, weight_file(weights, release.filename), release.fmt)
    trunk = getattr(model, "trunk", model)
    if request.tiny:
        preprocessing = preprocessing.scaled(TINY_VIT["img_size"])
    size = preprocessing.crop
    return ViTEncoder(
        model,
        info=_sized(info, size, size // trunk.patch_embed.patch_size[0], trunk.embed_dim),
        weights_identity=weights.identity if weights else random_identity(request.tiny),
        preprocessing=preprocessing,
        variant=request.variant,
    )


def _timm_vit_b16(tiny: bool) -> torch.nn.Module:
    """The MAE encoder as timm builds it (LayerNorm eps 1e-6, qkv bias), without any head."""
    import timm

    sizes = TINY_VIT if tiny else {}
    return timm.create_model(
        "vit_base_patch16_224", pretrained=False, num_classes=0, global_pool="", **sizes
    )


def _clip_vision_tower(tiny: bool) -> torch.nn.Module:
    """open_clip's vision tower only: the full model's HF text tower needs the network to build."""
    from open_clip.timm_model import TimmModel

    if tiny:  # timm's own test ViT (64-d, 6 blocks, any input size)
        return TimmModel("test_vit", embed_dim=16, image_size=64, pool="", proj="linear")
    return TimmModel("vit_base_patch16_224", embed_dim=512, image_size=224, pool="", proj="linear")


def _bit_processor(path: Path) -> Preprocessing:
    """A ``BitImageProcessor`` config as a spec (RGB, shortest-edge resize, crop, normalise)."""
    config = json.loads(path.read_text(encoding="utf-8"))
    crop = config.get("crop_size", {})
    resize = config.get("size", {}).get("shortest_edge")
    square = crop.get("height") is not None and crop.get("height") == crop.get("width")
    supported = (
        square
        and resize is not None
        and config.get("do_resize", True)
        and config.get("do_center_crop", True)
        and config.get("do_rescale", True)
        and abs(config.get("rescale_factor", 1 / 255) - 1 / 255) < 1e-12
        and config.get("resample", 3) in _PIL_RESAMPLE
    )
    if not supported:
        raise WeightsError(
            f"{path}: unsupported image-processor settings",
            hint="RAD-DINO needs resize (shortest edge), square centre crop and 1/255 rescaling",
        )
    normalise = config.get("do_normalize", True)
    return Preprocessing(
        resize=resize,
        crop=crop["height"],
        interpolation=_PIL_RESAMPLE[config.get("resample", 3)],
        crop_offset="floor",
        mean=tuple(config["image_mean"]) if normalise else None,
        std=tuple(config["image_std"]) if normalise else None,
    )


# --- the study's backbones, in the seed's order (Table 1) -----------------------------------------

RAD_DINO_REPO = "microsoft/rad-dino"
RAD_DINO = _info(
    "rad-dino",
    "ViT-B/14 DINOv2",
    518,
    37,
    768,
    weights=f"hf:{RAD_DINO_REPO}",
    licence="MIT (older revisions: MSRLA)",
)
RAD_DINO_HUB = HubSource(
    RAD_DINO_REPO, ("config.json", "model.safetensors", "preprocessor_config.json"), "config.json"
)
# BitImageProcessor settings of the hub's processor (used unless the folder has its own config)
RAD_DINO_PREPROCESSING = Preprocessing(
    resize=518,
    crop=518,
    interpolation="bicubic",
    crop_offset="floor",
    mean=(0.5307,) * 3,
    std=(0.2583,) * 3,
)
_PIL_RESAMPLE: dict[int, Interpolation] = {2: "bilinear", 3: "bicubic"}


@register_image(RAD_DINO)
def rad_dino(request: ImageRequest) -> ImageEncoder:
    """A HF folder: config.json, model.safetensors and (optionally) preprocessor_config.json."""
    from transformers import Dinov2Config, Dinov2Model

    weights = _weights(request, RAD_DINO, RAD_DINO_HUB)
    if weights is None:
        config = Dinov2Config(**(TINY_DINOV2 if request.tiny else RAD_DINO_CONFIG))
        with seeded_init():
            model = Dinov2Model(config)
    else:
        if not (weights.path / "config.json").is_file():
            raise WeightsError(
                f"{weights.path}: RAD-DINO loads from a Hugging Face folder",
                hint="pass the folder holding config.json and model.safetensors",
            )
        model = from_pretrained_strict(Dinov2Model, weights.path)
        config = model.config
    preprocessing = RAD_DINO_PREPROCESSING.scaled(config.image_size)
    if weights is not None and (weights.path / "preprocessor_config.json").is_file():
        preprocessing = _bit_processor(weights.path / "preprocessor_config.json")
    size = preprocessing.crop
    return Dinov2Encoder(
        model,
        info=_sized(RAD_DINO, size, size // config.patch_size, config.hidden_size),
        weights_identity=weights.identity if weights else random_identity(request.tiny),
        preprocessing=preprocessing,
        variant=request.variant,
    )


C2L = _info(
    "c2l",
    "ResNet-18",
    224,
    7,
    512,
    weights="Google Drive 1DJ1jrbDvCfBPeIK6fw2WqkkEmUXmUf2C",
    licence="MIT code; weights unstated",
)
# train_C2L_res18.py saves {model, model_ema, ...}; the ResNet sits in nn.DataParallel under
# ``encoder``; fc is the 512->128 contrastive head. Other common layouts are accepted too.
C2L_FORMAT = CheckpointFormat(
    containers=("model", "state_dict", ""),
    prefixes=("encoder.module.", "module.encoder.", "module.", "encoder.", ""),
    drop=("fc.",),
)


@register_image(C2L)
def c2l(request: ImageRequest) -> ImageEncoder:
    preprocessing = Preprocessing(resize=224, crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    return _resnet(request, C2L, preprocessing, Release(C2L_FORMAT))


MEDICAL_MAE = _info(
    "medical-mae",
    "ViT-B/16 MAE",
    224,
    14,
    768,
    weights="Google Drive 10wqOFCkhyWp6JdSFADrH6Xu9e1am3gXJ",
    licence="Apache-2.0",
)
MAE_FORMAT = CheckpointFormat(containers=("model",), drop=("mask_token", "decoder_"))
MEDICAL_MAE_VARIANTS = {
    # seed: shorter side 238, centre crop 224, ImageNet statistics
    "paper": Preprocessing(resize=238, crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD),
    # repo's evaluation transform: resize 256 bicubic, crop 224, chest X-ray statistics
    "repo": Preprocessing(
        resize=256,
        crop=224,
        interpolation="bicubic",
        mean=(0.5056, 0.5056, 0.5056),
        std=(0.252, 0.252, 0.252),
    ),
}


@register_image(MEDICAL_MAE, variants=tuple(MEDICAL_MAE_VARIANTS))
def medical_mae(request: ImageRequest) -> ImageEncoder:
    preprocessing = MEDICAL_MAE_VARIANTS[request.variant or "paper"]
    return _vit(request, MEDICAL_MAE, preprocessing, Release(MAE_FORMAT), _timm_vit_b16)


MRM = _info(
    "mrm",
    "ViT-B/16 MAE+report",
    224,
    14,
    768,
    weights="Google Drive 1JwZaqvsSdk1bD3B7fsN0uOz-2Fzz1amc",
    licence="MIT",
)
# MRM's pre-training model: the MAE encoder plus image decoder and a BERT report decoder.
MRM_FORMAT = CheckpointFormat(
    containers=("model",), drop=("mask_token", "decoder_", "bert_encoder.", "bert_mlp.")
)


@register_image(MRM)
def mrm(request: ImageRequest) -> ImageEncoder:
    # MRM-pytorch's NIH transform: Resize(224), CenterCrop(224), Grayscale(3), ToTensor, Normalize.
    preprocessing = Preprocessing(
        resize=224, crop=224, grayscale=True, mean=(0.4978,) * 3, std=(0.2449,) * 3
    )
    return _vit(request, MRM, preprocessing, Release(MRM_FORMAT, "MRM.pth"), _timm_vit_b16)


BIOVIL_T_FILE = "biovil_t_image_model_proj_size_128.pt"
BIOVIL_T_IMAGE = _info(
    "biovil-t",
    "ResNet-50",
    448,
    14,
    2048,
    weights="hf:microsoft/BiomedVLP-BioViL-T",
    licence="MIT",
)
# hi-ml's ImageModel: the ResNet under ``encoder.encoder.`` (with an unused fc 2048->1000); the
# ViT pooler, backbone_to_vit and projector are not part of the trunk.
BIOVIL_T_FORMAT = CheckpointFormat(prefixes=("encoder.encoder.",), drop=("fc.",))
BIOVIL_T_HUB = HubSource("microsoft/BiomedVLP-BioViL-T", (BIOVIL_T_FILE,), BIOVIL_T_FILE)


@register_image(BIOVIL_T_IMAGE)
def biovil_t(request: ImageRequest) -> ImageEncoder:
    # hi-ml: Resize(512) -> CenterCrop(448) -> ToTensor, single channel repeated; no normalisation.
    preprocessing = Preprocessing(resize=512, crop=448, grayscale=True)
    release = Release(BIOVIL_T_FORMAT, BIOVIL_T_FILE, BIOVIL_T_HUB)
    return _resnet(request, BIOVIL_T_IMAGE, preprocessing, release)


GLORIA_FILE = "chexpert_resnet50.ckpt"
GLORIA = _info(
    "gloria",
    "ResNet-50",
    224,
    7,
    2048,
    weights="Stanford Box j5h7q99f3pfi7enc0dom73m4nsm6yzvh",
    licence="Apache-2.0",
)
# PyTorch Lightning checkpoint; the ResNet (fc already Identity) under gloria.img_encoder.model.
GLORIA_FORMAT = CheckpointFormat(
    containers=("state_dict",), prefixes=("gloria.img_encoder.model.",)
)
GLORIA_PAPER = Preprocessing(resize=238, crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)
GLORIA_REPO = Preprocessing(
    resize=256,
    crop=224,
    resize_mode="longer-pad",
    interpolation="area",
    grayscale=True,
    mean=(0.5, 0.5, 0.5),
    std=(0.5, 0.5, 0.5),
)
# variant -> (preprocessing, in-model upsample): the seed's text, and GLoRIA's own repository
GLORIA_VARIANTS = {
    "paper": (GLORIA_PAPER, None),
    "paper-299": (GLORIA_PAPER, GLORIA_UPSAMPLE),
    "repo": (GLORIA_REPO, GLORIA_UPSAMPLE),
    "repo-224": (GLORIA_REPO, None),
}


@register_image(GLORIA, variants=tuple(GLORIA_VARIANTS))
def gloria(request: ImageRequest) -> ImageEncoder:
    preprocessing, upsample = GLORIA_VARIANTS[request.variant or "paper"]
    release = Release(GLORIA_FORMAT, GLORIA_FILE)
    return _resnet(request, GLORIA, preprocessing, release, upsample)


BIOMEDCLIP_REPO = "microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224"
BIOMEDCLIP_FILE = "open_clip_pytorch_model.bin"
BIOMEDCLIP = _info(
    "biomedclip",
    "ViT-B/16 CLIP",
    224,
    14,
    768,
    weights=f"hf:{BIOMEDCLIP_REPO}",
    licence="MIT",
)
# open_clip's CustomTextCLIP state dict: visual.trunk.*, visual.head.proj.weight, text.*, ...
BIOMEDCLIP_FORMAT = CheckpointFormat(prefixes=("visual.",))
BIOMEDCLIP_HUB = HubSource(BIOMEDCLIP_REPO, (BIOMEDCLIP_FILE,), BIOMEDCLIP_FILE)


# the hub's open_clip_config.json preprocess_cfg, as open_clip.image_transform builds it
BIOMEDCLIP_PREPROCESSING = Preprocessing(
    resize=224, crop=224, interpolation="bicubic", mean=CLIP_MEAN, std=CLIP_STD
)


@register_image(BIOMEDCLIP)
def biomedclip(request: ImageRequest) -> ImageEncoder:
    preprocessing = BIOMEDCLIP_PREPROCESSING
    release = Release(BIOMEDCLIP_FORMAT, BIOMEDCLIP_FILE, BIOMEDCLIP_HUB)
    return _vit(request, BIOMEDCLIP, preprocessing, release, _clip_vision_tower)
