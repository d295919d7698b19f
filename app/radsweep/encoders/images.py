"""The paper's seven image backbones as registry entries.

The pretrained table (``pretrained.py``) says what each backbone is: architecture, published
weights, preprocessing (the paper's Appendix A, plus the original repository's where it
differs), display name and citation. This module is the code half: how to build each
architecture offline (transformers, timm, open_clip or torchvision), the release's checkpoint
format, and a tiny configuration for tests and the demo.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

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
from radsweep.encoders.info import table_info
from radsweep.encoders.preprocess import Interpolation, Preprocessing
from radsweep.encoders.pretrained import pretrained
from radsweep.encoders.registry import ImageRequest, register_image, registered_info
from radsweep.encoders.vision import Dinov2Encoder, ResNetEncoder, ViTEncoder, resnet_grid
from radsweep.errors import WeightsError

TINY_RESNET_INPUT = 64  # torchvision ResNet(BasicBlock, [1, 1, 1, 1]): a 2x2 grid of 512-d tokens
# a 4x4 grid of 32-d tokens
TINY_VIT: dict[str, Any] = {"img_size": 64, "embed_dim": 32, "depth": 2, "num_heads": 2}
TINY_DINOV2: dict[str, Any] = {
    "image_size": 56,
    "patch_size": 14,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "mlp_ratio": 2,
}
RAD_DINO_CONFIG: dict[str, Any] = {
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


def _preprocessing(name: str, variant: str | None = None) -> Preprocessing:
    """The table's pipeline for ``name`` (and ``variant``) as a preprocessing spec."""
    return Preprocessing(**pretrained(name, "image").pipeline(variant).preprocessing)


def _hub(name: str) -> HubSource | None:
    """The files to fetch from the table's hub repository for ``name`` (None: off the hub)."""
    row = pretrained(name, "image")
    if row.hub_id is None or not row.hub_files:
        return None
    return HubSource(row.hub_id, row.hub_files, row.hub_files[0])


def _weights(request: ImageRequest, hub: HubSource | None) -> Weights | None:
    """The weights to load, or None for seeded random init (tiny by default, or ``"random"``).

    With no weights named, a release off the hub comes from the weights catalogue (the registry
    passes its file, or fails naming the page to download it from), so only hub releases are
    left to download here.
    """
    if request.weights == RANDOM_WEIGHTS or (request.weights is None and request.tiny):
        return None
    if request.weights is not None:
        return resolve_weights(request.weights, hub)
    assert hub is not None, "a release off the hub reached the builder without weights"
    return from_hub(hub)


@dataclass(frozen=True)
class Release:
    """Where a backbone's published weights live and how the file stores them."""

    fmt: CheckpointFormat
    filename: str | None = None  # the file to pick from a folder (None: pass the file itself)
    hub: HubSource | None = None

    @classmethod
    def of(cls, name: str, fmt: CheckpointFormat) -> "Release":
        """The table row's release (file and hub files) read with the checkpoint adapter."""
        return cls(fmt, pretrained(name, "image").weights_file, _hub(name))


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

    weights = _weights(request, release.hub)
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
        side = cast(int, info.input_size)  # an image encoder's info always has one
        upsample = upsample and round(upsample * TINY_RESNET_INPUT / side)
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
    weights = _weights(request, release.hub)
    with seeded_init():
        model = build(request.tiny)
    if weights is not None:
        load_checkpoint(model, weight_file(weights, release.filename), release.fmt)
    trunk: Any = getattr(model, "trunk", model)  # a timm ViT, or open_clip's wrapper of one
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


# --- the paper's backbones, in its order (Table 1) ------------------------------------------------

RAD_DINO_PREPROCESSING = _preprocessing("rad-dino")
_PIL_RESAMPLE: dict[int, Interpolation] = {2: "bilinear", 3: "bicubic"}


@register_image("rad-dino")
def rad_dino(request: ImageRequest) -> ImageEncoder:
    """A HF folder: config.json, model.safetensors and (optionally) preprocessor_config.json."""
    from transformers import Dinov2Config, Dinov2Model

    info = registered_info("rad-dino", EncoderKind.IMAGE)
    weights = _weights(request, _hub("rad-dino"))
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
        model = cast(Dinov2Model, from_pretrained_strict(Dinov2Model, weights.path))
        config = model.config
    if not isinstance(config.image_size, int) or not isinstance(config.patch_size, int):
        raise WeightsError(
            f"{weights.path if weights else 'rad-dino'}: config.json must give one image_size and "
            "one patch_size (square images and patches)",
            hint="use the released RAD-DINO config.json",
        )
    preprocessing = RAD_DINO_PREPROCESSING.scaled(config.image_size)
    if weights is not None and (weights.path / "preprocessor_config.json").is_file():
        preprocessing = _bit_processor(weights.path / "preprocessor_config.json")
    size = preprocessing.crop
    return Dinov2Encoder(
        model,
        info=_sized(info, size, size // config.patch_size, config.hidden_size),
        weights_identity=weights.identity if weights else random_identity(request.tiny),
        preprocessing=preprocessing,
        variant=request.variant,
    )


# train_C2L_res18.py saves {model, model_ema, ...}; the ResNet sits in nn.DataParallel under
# ``encoder``; fc is the 512->128 contrastive head. Other common layouts are accepted too.
C2L_FORMAT = CheckpointFormat(
    containers=("model", "state_dict", ""),
    prefixes=("encoder.module.", "module.encoder.", "module.", "encoder.", ""),
    drop=("fc.",),
)


@register_image("c2l")
def c2l(request: ImageRequest) -> ImageEncoder:
    info = registered_info("c2l", EncoderKind.IMAGE)
    return _resnet(request, info, _preprocessing("c2l"), Release.of("c2l", C2L_FORMAT))


MAE_FORMAT = CheckpointFormat(containers=("model",), drop=("mask_token", "decoder_"))
MEDICAL_MAE_VARIANTS = {
    variant: _preprocessing("medical-mae", variant)
    for variant in pretrained("medical-mae", "image").variants
}


@register_image("medical-mae")
def medical_mae(request: ImageRequest) -> ImageEncoder:
    info = registered_info("medical-mae", EncoderKind.IMAGE)
    preprocessing = MEDICAL_MAE_VARIANTS[request.variant or "paper"]
    return _vit(request, info, preprocessing, Release.of("medical-mae", MAE_FORMAT), _timm_vit_b16)


# MRM's pre-training model: the MAE encoder plus image decoder and a BERT report decoder.
MRM_FORMAT = CheckpointFormat(
    containers=("model",), drop=("mask_token", "decoder_", "bert_encoder.", "bert_mlp.")
)


@register_image("mrm")
def mrm(request: ImageRequest) -> ImageEncoder:
    info = registered_info("mrm", EncoderKind.IMAGE)
    release = Release.of("mrm", MRM_FORMAT)
    return _vit(request, info, _preprocessing("mrm"), release, _timm_vit_b16)


# hi-ml's ImageModel: the ResNet under ``encoder.encoder.`` (with an unused fc 2048->1000); the
# ViT pooler, backbone_to_vit and projector are not part of the trunk.
BIOVIL_T_FORMAT = CheckpointFormat(prefixes=("encoder.encoder.",), drop=("fc.",))


@register_image("biovil-t")
def biovil_t(request: ImageRequest) -> ImageEncoder:
    info = registered_info("biovil-t", EncoderKind.IMAGE)
    release = Release.of("biovil-t", BIOVIL_T_FORMAT)
    return _resnet(request, info, _preprocessing("biovil-t"), release)


# PyTorch Lightning checkpoint; the ResNet (fc already Identity) under gloria.img_encoder.model.
GLORIA_FORMAT = CheckpointFormat(
    containers=("state_dict",), prefixes=("gloria.img_encoder.model.",)
)
# variant -> (preprocessing, in-model upsample): the paper's text, and GLoRIA's own repository
GLORIA_VARIANTS = {
    variant: (_preprocessing("gloria", variant), pipeline.upsample)
    for variant, pipeline in pretrained("gloria", "image").pipelines.items()
    if variant is not None
}


@register_image("gloria")
def gloria(request: ImageRequest) -> ImageEncoder:
    info = registered_info("gloria", EncoderKind.IMAGE)
    preprocessing, upsample = GLORIA_VARIANTS[request.variant or "paper"]
    release = Release.of("gloria", GLORIA_FORMAT)
    return _resnet(request, info, preprocessing, release, upsample)


# open_clip's CustomTextCLIP state dict: visual.trunk.*, visual.head.proj.weight, text.*, ...
BIOMEDCLIP_FORMAT = CheckpointFormat(prefixes=("visual.",))
BIOMEDCLIP_PREPROCESSING = _preprocessing("biomedclip")


@register_image("biomedclip")
def biomedclip(request: ImageRequest) -> ImageEncoder:
    info = registered_info("biomedclip", EncoderKind.IMAGE)
    release = Release.of("biomedclip", BIOMEDCLIP_FORMAT)
    return _vit(request, info, BIOMEDCLIP_PREPROCESSING, release, _clip_vision_tower)


BIOMEDCLIP = table_info(pretrained("biomedclip", "image"))
