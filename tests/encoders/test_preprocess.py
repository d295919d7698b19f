import numpy as np
import pytest
import torch
from PIL import Image

from radsweep.encoders import build_image_encoder, list_encoders
from radsweep.encoders.base import EncoderKind
from radsweep.encoders.images import (
    BIOMEDCLIP,
    BIOMEDCLIP_PREPROCESSING,
    GLORIA_VARIANTS,
    MEDICAL_MAE_VARIANTS,
    RAD_DINO_PREPROCESSING,
)
from radsweep.encoders.preprocess import CLIP_MEAN, CLIP_STD, Preprocessing
from radsweep.errors import RadsweepError

IMAGE_NAMES = [info.name for info in list_encoders(EncoderKind.IMAGE)]


def test_rad_dino_matches_the_hf_image_processor(radiographs: list[Image.Image]) -> None:
    """BitImageProcessor (the PIL backend, the classic "slow" processor) with RAD-DINO's settings;
    the non-square radiograph exercises HF's floor-rounded crop offsets."""
    from transformers.models.bit.image_processing_pil_bit import BitImageProcessorPil

    spec = RAD_DINO_PREPROCESSING
    processor = BitImageProcessorPil(
        size={"shortest_edge": spec.resize},
        crop_size={"height": spec.crop, "width": spec.crop},
        resample=3,
        image_mean=list(spec.mean or ()),
        image_std=list(spec.std or ()),
    )
    for image in [*radiographs, radiographs[0].crop((0, 0, 291, 240))]:
        expected = processor(image, return_tensors="pt")["pixel_values"][0]
        assert torch.allclose(spec(image), expected, atol=1e-5, rtol=0)


def test_biomedclip_matches_open_clip_transform(radiographs: list[Image.Image]) -> None:
    import open_clip

    transform = open_clip.image_transform(
        BIOMEDCLIP.input_size,
        is_train=False,
        mean=CLIP_MEAN,
        std=CLIP_STD,
        resize_mode="shortest",
        interpolation="bicubic",
    )
    spec = BIOMEDCLIP_PREPROCESSING
    for image in radiographs:
        assert torch.allclose(spec(image), transform(image), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", IMAGE_NAMES)
def test_views_have_the_model_input_size_and_its_normalisation(name: str) -> None:
    encoder = build_image_encoder(name, tiny=True)
    spec, size = encoder.preprocessing, encoder.info.input_size
    gray = Image.new("L", (90, 70), 100)
    for box in (None, (5, 10, 40, 30)):
        view = encoder.preprocess(gray, box)
        assert view.shape == (3, size, size) and view.dtype == torch.float32
        mean = torch.tensor(spec.mean or (0.0,) * 3).view(3, 1, 1)
        std = torch.tensor(spec.std or (1.0,) * 3).view(3, 1, 1)
        expected = ((100 / 255 - mean) / std).expand(3, size, size)
        assert torch.allclose(view, expected, atol=1e-5)


def test_the_full_size_pipelines_give_the_paper_input_sizes(radiographs: list[Image.Image]) -> None:
    image = radiographs[0]
    assert RAD_DINO_PREPROCESSING(image).shape == (3, 518, 518)
    assert Preprocessing(resize=512, crop=448, grayscale=True)(image).shape == (3, 448, 448)
    for spec, _ in GLORIA_VARIANTS.values():
        assert spec(image).shape == (3, 224, 224)


def test_a_box_crops_that_region_and_resizes_it_to_the_input() -> None:
    pixels = np.zeros((80, 100), np.uint8)
    pixels[20:50, 30:90] = 255  # the box (left 30, top 20, width 60, height 30) is all white
    spec = Preprocessing(resize=40, crop=32)
    view = spec(Image.fromarray(pixels), (30, 20, 60, 30))
    assert view.shape == (3, 32, 32) and torch.all(view == 1.0)
    centre = spec(Image.fromarray(pixels))
    assert 0 < centre.mean() < 1  # the centre view sees both black and white


def test_boxes_outside_the_image_are_refused() -> None:
    spec = Preprocessing(resize=40, crop=32)
    with pytest.raises(RadsweepError, match="reaches outside the 50x40 image"):
        spec(Image.new("L", (50, 40)), (30, 0, 30, 10))
    with pytest.raises(RadsweepError, match="positive size"):
        spec(Image.new("L", (50, 40)), (0, 0, 0, 10))


def test_grayscale_models_replicate_luminance_and_rgb_models_keep_colour() -> None:
    red = Image.new("RGB", (64, 64), (200, 20, 20))
    mrm = build_image_encoder("mrm", tiny=True).preprocess(red)
    assert torch.equal(mrm[0], mrm[1]) and torch.equal(mrm[1], mrm[2])
    c2l = build_image_encoder("c2l", tiny=True).preprocess(red)
    assert c2l[0].mean() > c2l[1].mean()


def test_sixteen_bit_images_must_be_windowed_first() -> None:
    with pytest.raises(RadsweepError, match="not 8-bit"):
        Preprocessing(resize=32, crop=32)(Image.new("I;16", (40, 40)))


def test_gloria_repo_variant_pads_the_short_side_like_the_repository() -> None:
    """White 200x100: longer side to 256 gives 256x128 padded by 64 black rows above and below;
    the 224 centre crop starts 16 rows down, so rows 0-47 are padding and 48-175 the image."""
    spec, upsample = GLORIA_VARIANTS["repo"]
    view = spec(Image.new("L", (200, 100), 255))
    assert upsample == 299
    assert torch.all(view[:, :48] == -1) and torch.all(view[:, 176:] == -1)
    assert torch.all(view[:, 48:176] == 1)


def test_preprocessing_ids_change_with_every_variant() -> None:
    ids = [
        build_image_encoder("gloria", tiny=True, variant=variant).preprocessing_id()
        for variant in GLORIA_VARIANTS
    ]
    assert len({repr(sorted(i.items())) for i in ids}) == len(ids)
    assert ids[1]["upsample"] is not None and ids[0]["upsample"] is None
    paper, repo = (spec.identity() for spec in MEDICAL_MAE_VARIANTS.values())
    assert (paper["resize"], paper["mean"][0]) == (238, 0.485)
    assert (repo["resize"], repo["interpolation"], repo["mean"][0]) == (256, "bicubic", 0.5056)
