"""A backbone that exists only in the tests: a fixed random projection of pixel patches.

It is the proof that adding a backbone is one pretrained-table row plus its builder: this file is
both, ``outside_backbone()`` adds them, and no file of the package changes.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image

from radsweep.encoders import EncoderKind
from radsweep.encoders.base import CropBox, ImageEncoder, ImageTokens
from radsweep.encoders.preprocess import Preprocessing
from radsweep.encoders.pretrained import Pipeline, Pretrained, add_pretrained, remove_pretrained
from radsweep.encoders.registry import (
    ImageRequest,
    register_image,
    registered_info,
    unregister_encoder,
)

NAME = "patch-projection"
DISPLAY = "Patch projection"
SIDE, PATCH, DIM = 32, 8, 24
GRID = SIDE // PATCH
GFLOPS = GRID * GRID * PATCH * PATCH * DIM * 2 / 1e9  # one [64 -> 24] product per patch
PLACE = 2.5  # between MRM (2) and C2L (3) in the report's colours
PREPROCESSING = {"resize": SIDE, "crop": SIDE, "interpolation": "area", "grayscale": True}


class PatchProjection(ImageEncoder):
    """8 x 8 grayscale patches of a 32 x 32 image, each projected to 24 dimensions."""

    weights_identity = "parameter-free:patch-projection-v1"

    def __init__(self) -> None:
        super().__init__()
        self.info = registered_info(NAME, EncoderKind.IMAGE)
        self.preprocessing = Preprocessing(**PREPROCESSING)
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("projection", torch.randn(PATCH * PATCH, DIM, generator=generator))

    def preprocessing_id(self) -> dict[str, Any]:
        return self.preprocessing.identity()

    def preprocess(self, image: Image.Image, box: CropBox | None = None) -> torch.Tensor:
        return self.preprocessing(image, box)

    def forward(self, pixels: torch.Tensor) -> ImageTokens:
        patches = F.unfold(pixels[:, :1], kernel_size=PATCH, stride=PATCH).transpose(1, 2)
        return ImageTokens(tokens=patches @ self.projection, cls=None)


def build(request: ImageRequest) -> ImageEncoder:
    return PatchProjection()


@contextmanager
def outside_backbone() -> Iterator[Pretrained]:
    """The backbone's table row and builder, added for the duration of the block."""
    row = add_pretrained(
        Pretrained(
            name=NAME,
            kind="image",
            display=DISPLAY,
            architecture="8x8 pixel patches, fixed random projection",
            source=None,
            licence="Apache-2.0",
            citation=None,
            dim=DIM,
            input_size=SIDE,
            grid=GRID,
            has_cls=False,
            pipelines={None: Pipeline(PREPROCESSING)},
            gflops=GFLOPS,
            report_order=PLACE,
        )
    )
    register_image(NAME)(build)
    try:
        yield row
    finally:
        unregister_encoder(NAME, EncoderKind.IMAGE)
        remove_pretrained(NAME, "image")
