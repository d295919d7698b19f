from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from radsweep.encoders import (
    EncoderKind,
    ImageEncoder,
    TextEncoder,
    build_image_encoder,
    build_text_encoder,
    encoder_variants,
    list_encoders,
)
from radsweep.errors import RadsweepError, WeightsError

IMAGE_NAMES = [
    "rad-dino",
    "c2l",
    "medical-mae",
    "mrm",
    "biovil-t",
    "gloria",
    "biomedclip",
    "pixel-patches",  # the light encoders come after the study's
]
TEXT_NAMES = ["biovil-t", "cxr-bert-general", "bio-clinicalbert", "minilm", "minilm-sentences"]


def test_the_study_and_light_encoders_are_registered_in_order() -> None:
    assert [info.name for info in list_encoders(EncoderKind.IMAGE)] == IMAGE_NAMES
    assert [info.name for info in list_encoders(EncoderKind.TEXT)] == TEXT_NAMES
    assert len(list_encoders()) == len(IMAGE_NAMES) + len(TEXT_NAMES)


def test_listed_facts_match_the_reference_token_layouts() -> None:
    facts = {
        info.name: (info.input_size, info.grid, info.dim, info.has_cls)
        for info in list_encoders(EncoderKind.IMAGE)
    }
    assert facts["rad-dino"] == (518, (37, 37), 768, True)
    assert facts["biovil-t"] == (448, (14, 14), 2048, False)
    assert facts["c2l"] == (224, (7, 7), 512, False)
    assert facts["gloria"] == (224, (7, 7), 2048, False)
    assert facts["biomedclip"] == (224, (14, 14), 768, True)


def test_variants_default_first() -> None:
    assert encoder_variants("medical-mae") == ("paper", "repo")
    assert encoder_variants("gloria")[0] == "paper"
    assert encoder_variants("c2l") == ()
    assert build_image_encoder("gloria", tiny=True).variant == "paper"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: build_image_encoder("vgg", tiny=True), "unknown image encoder 'vgg'"),
        (lambda: build_text_encoder("gpt", tiny=True), "unknown text encoder 'gpt'"),
        (lambda: build_image_encoder("gloria", variant="x"), "has no variant 'x'"),
        (lambda: build_image_encoder("c2l", variant="repo"), "has no variant 'repo'"),
    ],
)
def test_unknown_names_and_variants_are_user_errors(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(RadsweepError, match=message) as error:
        call()
    assert "\n" not in error.value.one_line()


def test_biovil_t_is_an_image_and_a_text_encoder() -> None:
    assert isinstance(build_image_encoder("biovil-t", tiny=True), ImageEncoder)
    assert isinstance(build_text_encoder("biovil-t", tiny=True), TextEncoder)


def test_encoders_come_out_frozen_and_stay_in_eval_mode() -> None:
    encoder = build_image_encoder("c2l", tiny=True)
    assert not encoder.training and not any(p.requires_grad for p in encoder.parameters())
    torch.nn.Sequential(encoder).train()  # a caller's .train() must not reach the backbone
    assert not any(module.training for module in encoder.modules())


def test_random_init_is_seeded_and_leaves_the_callers_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = build_image_encoder("mrm", tiny=True)
    assert torch.equal(torch.rand(3), expected)
    second = build_image_encoder("mrm", tiny=True)
    pixels = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(first(pixels).tokens, second(pixels).tokens)
    assert first.weights_identity == "random-init:tiny:seed=0"


def test_default_hub_weights_without_network_name_the_local_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsError, match="pass a local copy with --weights"):
        build_image_encoder("rad-dino", weights="someone/not-cached-model")
    with pytest.raises(WeightsError, match="cannot load microsoft/BiomedVLP-CXR-BERT-general"):
        build_text_encoder("cxr-bert-general")


def test_drive_only_releases_give_the_link_and_the_command() -> None:
    """No catalogue entry, no --weights: the exact page to download from and what to run."""
    with pytest.raises(
        WeightsError, match="image encoder c2l: no weights in the catalogue"
    ) as error:
        build_image_encoder("c2l")
    line = error.value.one_line()
    assert "https://drive.google.com/file/d/1DJ1jrbDvCfBPeIK6fw2WqkkEmUXmUf2C/view" in line
    assert "radsweep weights add c2l FILE" in line and "--weights" in line
    with pytest.raises(WeightsError, match=r"box\.com/s/j5h7q99f3pfi7enc0dom73m4nsm6yzvh"):
        build_image_encoder("gloria")


def test_missing_weight_paths_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no such file or folder"):
        build_image_encoder("mrm", weights=tmp_path / "missing.pth")
    with pytest.raises(RadsweepError, match="only in the tiny size"):
        build_text_encoder("minilm", weights="random")
