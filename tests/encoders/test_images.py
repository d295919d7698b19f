"""The seven image backbones: tiny shapes, every release's checkpoint layout, full-size tokens."""

import argparse
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from radsweep.encoders import ImageEncoder, build_image_encoder, list_encoders
from radsweep.encoders.base import EncoderKind
from radsweep.encoders.images import GLORIA_VARIANTS
from radsweep.errors import WeightsError
from tests.encoders.conftest import perturb
from tests.encoders.hostile import importable_as

State = dict[str, torch.Tensor]
IMAGE_NAMES = [info.name for info in list_encoders(EncoderKind.IMAGE)]


def _tokens(encoder: ImageEncoder, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    size = encoder.info.input_size
    pixels = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        out = encoder(pixels)
    return out.tokens, out.cls


@pytest.mark.parametrize(
    ("name", "variant"),
    [(name, None) for name in IMAGE_NAMES] + [("gloria", v) for v in GLORIA_VARIANTS],
)
def test_tiny_encoders_give_the_announced_token_layout(name: str, variant: str | None) -> None:
    encoder = build_image_encoder(name, tiny=True, variant=variant)
    info = encoder.info
    view = encoder.preprocess(Image.new("L", (80, 60), 128))
    with torch.no_grad():
        out = encoder(torch.stack([view, view]))
    rows, cols = info.grid or (0, 0)
    assert out.tokens.shape == (2, rows * cols, info.dim)
    assert (out.cls is not None) == info.has_cls
    if out.cls is not None:
        assert out.cls.shape == (2, info.dim)
    assert torch.isfinite(out.tokens).all()


def test_gloria_upsample_changes_the_grid_as_in_the_repository() -> None:
    grids = {
        v: build_image_encoder("gloria", tiny=True, variant=v).info.grid for v in ("paper", "repo")
    }
    assert grids["paper"] == (2, 2) and grids["repo"] == (3, 3)  # 64 px, and 64 * 299/224 = 85 px


# --- each release's file layout, written from a randomly initialised reference module ----------


def _extra(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


def _c2l(state: State) -> dict[str, Any]:
    """train_C2L_res18.py: {model, model_ema, contrast, optimizer, epoch, opt}; DataParallel."""
    model = {f"encoder.module.{k}": v for k, v in state.items()}
    model |= {"encoder.module.fc.weight": _extra(128, 512), "encoder.module.fc.bias": _extra(128)}
    return {
        "model": model,
        "model_ema": {k: v + 1 for k, v in model.items()},
        "contrast": {"memory": _extra(16, 128)},
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.03, "params": [0, 1]}]},
        "epoch": 200,
        "opt": argparse.Namespace(batch_size=256, nce_k=16384),
    }


def _mae_decoder(dim: int = 16) -> State:
    return {
        "mask_token": _extra(1, 1, dim),
        "decoder_embed.weight": _extra(dim, 32),
        "decoder_pos_embed": _extra(1, 17, dim),
        "decoder_blocks.0.norm1.weight": _extra(dim),
        "decoder_norm.weight": _extra(dim),
        "decoder_pred.weight": _extra(768, dim),
    }


def _medical_mae(state: State) -> dict[str, Any]:
    """MAE's misc.save_model: {model, optimizer, epoch, scaler, args}, decoder included."""
    return {
        "model": state | _mae_decoder(),
        "optimizer": {"state": {}, "param_groups": []},
        "epoch": 799,
        "args": argparse.Namespace(model="mae_vit_base_patch16", norm_pix_loss=True),
    }


def _mrm(state: State) -> dict[str, Any]:
    """MRM.pth: the MAE layout plus the BERT report decoder and its MLP."""
    bert = {
        "bert_encoder.model.bert.embeddings.word_embeddings.weight": _extra(50, 8),
        "bert_mlp.weight": _extra(384, 32),
        "bert_mlp.bias": _extra(384),
    }
    return {"model": state | _mae_decoder() | bert}


def _biovil_t(state: State) -> dict[str, Any]:
    """hi-ml ImageModel: the ResNet (with fc) under encoder.encoder., pooler and projector."""
    dim = state["layer4.0.bn2.weight"].shape[0]
    return {f"encoder.encoder.{k}": v for k, v in state.items()} | {
        "encoder.encoder.fc.weight": _extra(1000, dim),
        "encoder.encoder.fc.bias": _extra(1000),
        "encoder.backbone_to_vit.weight": _extra(256, dim, 1, 1),
        "encoder.vit_pooler.blocks.0.norm1.weight": _extra(256),
        "encoder.missing_previous_emb": _extra(1, 256, 1, 1),
        "projector.model.0.weight": _extra(128, 256, 1, 1),
    }


class Metadata:
    """OmegaConf's node metadata, as pickled inside GLoRIA's hyper-parameters."""

    def __init__(self, key: str | None) -> None:
        self.ref_type, self.object_type, self.optional, self.key, self.flags = (
            Any,
            None,
            True,
            key,
            {},
        )


class ContainerMetadata(Metadata):
    def __init__(self, key: str | None) -> None:
        super().__init__(key)
        self.key_type = self.element_type = Any


class AnyNode:
    def __init__(self, value: Any, key: str, parent: Any) -> None:
        self._val, self._metadata, self._parent = value, Metadata(key), parent


def _node(value: Any, key: str, parent: Any) -> Any:
    if isinstance(value, dict):
        return DictConfig(value, key, parent)
    return (
        ListConfig(value, key, parent) if isinstance(value, list) else AnyNode(value, key, parent)
    )


class DictConfig:
    """An OmegaConf config, built the way ``OmegaConf.create`` lays out its state."""

    def __init__(self, content: dict[str, Any], key: str | None = None, parent: Any = None) -> None:
        self._metadata, self._parent = ContainerMetadata(key), parent
        self._content = {k: _node(v, k, self) for k, v in content.items()}


class ListConfig:
    def __init__(self, content: list[Any], key: str, parent: Any) -> None:
        self._metadata, self._parent = ContainerMetadata(key), parent
        self._content = [_node(v, key, self) for v in content]


OMEGACONF = {
    "omegaconf.dictconfig.DictConfig": DictConfig,
    "omegaconf.listconfig.ListConfig": ListConfig,
    "omegaconf.base.ContainerMetadata": ContainerMetadata,
    "omegaconf.base.Metadata": Metadata,
    "omegaconf.nodes.AnyNode": AnyNode,
}


def _gloria(state: State) -> dict[str, Any]:
    """PyTorch Lightning 1.1: state_dict with gloria.img_encoder.model.*, embedders, text
    encoder; the OmegaConf config as hyper_parameters and its class as hparams_type."""
    weights = {f"gloria.img_encoder.model.{k}": v for k, v in state.items()} | {
        "gloria.img_encoder.global_embedder.weight": _extra(768, 512),
        "gloria.img_encoder.local_embedder.weight": _extra(768, 256, 1, 1),
        "gloria.text_encoder.model.embeddings.word_embeddings.weight": _extra(50, 8),
    }
    config = {"model": {"vision": {"model_name": "resnet_50", "freeze_cnn": False}}}
    return {
        "state_dict": weights,
        "epoch": 49,
        "pytorch-lightning_version": "1.1.4",
        "hyper_parameters": DictConfig(
            config | {"lightning": {"trainer": {"lr": 5e-5, "gpus": [0]}}}
        ),
        "hparams_type": DictConfig,
    }


def _biomedclip(state: State) -> dict[str, Any]:
    """open_clip CustomTextCLIP: visual.trunk.*, visual.head.proj.weight, text.*, logit_scale."""
    return {f"visual.{k}": v for k, v in state.items()} | {
        "text.transformer.embeddings.word_embeddings.weight": _extra(50, 8),
        "text.proj.0.weight": _extra(512, 8),
        "logit_scale": torch.tensor(4.6),
    }


# name -> (file name, load the folder rather than the file, writer)
RELEASES: dict[str, tuple[str, bool, Callable[[State], dict[str, Any]]]] = {
    "c2l": ("ckpt_epoch_200.pth", False, _c2l),
    "medical-mae": ("vit-b_CXR_0.5M_mae.pth", False, _medical_mae),
    "mrm": ("MRM.pth", True, _mrm),
    "biovil-t": ("biovil_t_image_model_proj_size_128.pt", True, _biovil_t),
    "gloria": ("chexpert_resnet50.ckpt", True, _gloria),
    "biomedclip": ("open_clip_pytorch_model.bin", False, _biomedclip),
}


@pytest.mark.parametrize("name", list(RELEASES))
def test_release_checkpoints_load_to_identical_outputs(name: str, tmp_path: Path) -> None:
    reference = build_image_encoder(name, tiny=True)
    perturb(reference.model)
    filename, as_folder, write = RELEASES[name]
    with importable_as(OMEGACONF):
        torch.save(write(reference.model.state_dict()), tmp_path / filename)
    loaded = build_image_encoder(
        name, weights=tmp_path if as_folder else tmp_path / filename, tiny=True
    )
    for expected, actual in zip(_tokens(reference), _tokens(loaded), strict=True):
        assert (expected is None and actual is None) or torch.equal(expected, actual)
    assert loaded.weights_identity.startswith("sha256:")
    if not as_folder:
        digest = hashlib.sha256((tmp_path / filename).read_bytes()).hexdigest()
        assert loaded.weights_identity == f"sha256:{digest}"


def test_rad_dino_loads_a_hub_folder_with_its_processor_config(tmp_path: Path) -> None:
    reference = build_image_encoder("rad-dino", tiny=True)
    perturb(reference.model).save_pretrained(tmp_path)  # config.json + model.safetensors
    processor = {
        "image_processor_type": "BitImageProcessor",
        "size": {"shortest_edge": 64},
        "crop_size": {"height": 56, "width": 56},
        "resample": 3,
        "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.25, 0.25, 0.25],
    }
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(processor))
    loaded = build_image_encoder("rad-dino", weights=tmp_path)
    assert torch.equal(_tokens(reference)[0], _tokens(loaded)[0])
    assert loaded.preprocessing.mean == (0.5, 0.5, 0.5) and loaded.preprocessing.resize == 64
    assert torch.equal(_tokens(reference)[1], _tokens(loaded)[1])
    with pytest.raises(WeightsError, match="RAD-DINO loads from a Hugging Face folder"):
        build_image_encoder("rad-dino", weights=tmp_path / "model.safetensors")


def test_the_default_hub_weights_come_from_the_hf_cache_keyed_by_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached hub snapshot loads offline; its identity is the commit, not a file hash."""
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--microsoft--rad-dino"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    reference = build_image_encoder("rad-dino", tiny=True)
    perturb(reference.model).save_pretrained(repo / "snapshots" / commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = build_image_encoder("rad-dino")
    assert loaded.weights_identity == f"hf:microsoft/rad-dino@{commit}"
    assert torch.equal(_tokens(reference)[0], _tokens(loaded)[0])


def test_rad_dino_names_the_keys_a_folder_lacks(tmp_path: Path) -> None:
    """The hub layout holds every key; one missing is an error, not a random init."""
    from safetensors.torch import load_file, save_file

    build_image_encoder("rad-dino", tiny=True).model.save_pretrained(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    del state["layernorm.weight"]
    save_file(state, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(WeightsError, match=r"missing keys 1: layernorm\.weight"):
        build_image_encoder("rad-dino", weights=tmp_path)


def test_a_checkpoint_that_does_not_fit_names_missing_and_unexpected_keys(tmp_path: Path) -> None:
    state = build_image_encoder("c2l", tiny=True).model.state_dict()
    del state["layer4.0.conv1.weight"]
    state["projection.weight"] = torch.zeros(2, 2)
    torch.save({"model": state}, tmp_path / "c2l.pth")
    with pytest.raises(WeightsError) as error:
        build_image_encoder("c2l", weights=tmp_path / "c2l.pth", tiny=True)
    line = error.value.one_line()
    assert "c2l.pth does not fit the model" in line
    assert "missing keys 1: layer4.0.conv1.weight" in line
    assert "unexpected keys 1: projection.weight" in line


def test_a_full_size_release_does_not_fit_the_tiny_model(tmp_path: Path) -> None:
    state = build_image_encoder("medical-mae", tiny=True).model.state_dict()
    state["cls_token"] = torch.zeros(1, 1, 768)
    torch.save({"model": state}, tmp_path / "mae.pth")
    with pytest.raises(WeightsError, match="wrong shapes 1: cls_token"):
        build_image_encoder("medical-mae", weights=tmp_path / "mae.pth", tiny=True)


def test_a_folder_without_the_release_file_says_which_file_it_wants(tmp_path: Path) -> None:
    (tmp_path / "other.pt").write_bytes(b"")
    with pytest.raises(WeightsError, match=r"no MRM\.pth in this folder"):
        build_image_encoder("mrm", weights=tmp_path, tiny=True)


# --- full size at the paper's input, one model per family (random weights) --------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "tokens", "dim"),
    [("medical-mae", 196, 768), ("biovil-t", 196, 2048), ("rad-dino", 1369, 768)],
)
def test_full_size_token_shapes_at_the_paper_input(name: str, tokens: int, dim: int) -> None:
    encoder = build_image_encoder(name, weights="random")
    size = encoder.info.input_size
    assert encoder.weights_identity == "random-init:seed=0"
    assert encoder.info == next(i for i in list_encoders(EncoderKind.IMAGE) if i.name == name)
    with torch.no_grad():
        out = encoder(torch.rand(1, 3, size, size))
    assert out.tokens.shape == (1, tokens, dim)
    assert (out.cls is None) == (name == "biovil-t")


def test_every_release_off_the_hub_is_fetched_by_hand() -> None:
    """The builders download only hub releases; any other kind of source would need the weights
    catalogue to be filled first, which only page releases make the registry demand."""
    from radsweep.weights.links import SourceKind, parse_source

    kinds = {info.name: parse_source(info.default_weights).kind for info in _releases()}
    assert set(kinds.values()) <= {SourceKind.HUB, SourceKind.PAGE}, kinds


def _releases() -> list[Any]:
    return [info for info in list_encoders(EncoderKind.IMAGE) if info.name != "pixel-patches"]


@pytest.mark.parametrize(
    "name",
    [info.name for info in _releases() if not info.default_weights.startswith("hf:")],
)
def test_a_page_release_not_in_the_catalogue_names_its_link(name: str, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="its authors publish them at https://") as raised:
        build_image_encoder(name, catalogue=tmp_path / "weights.yaml")
    assert f"radsweep weights add {name} FILE" in raised.value.one_line()
