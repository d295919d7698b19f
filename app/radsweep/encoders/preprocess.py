"""Image preprocessing as data: each backbone's pipeline is one frozen spec the cache key can hash.

The spec reproduces the torchvision / Hugging Face / open_clip transforms the models were trained
with (PIL resampling, then ``ToTensor`` and ``Normalize``), so one code path serves every backbone
and every variant. A crop box replaces resize + centre crop with "crop that region, resize it to
the input size": one draw of the paper's RandomResizedCrop augmentation.
"""

from typing import Any, Literal

import cv2
import numpy as np
import torch
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from radsweep.encoders.base import CropBox
from radsweep.encoders.pretrained import CLIP_MEAN as CLIP_MEAN
from radsweep.encoders.pretrained import CLIP_STD as CLIP_STD
from radsweep.errors import RadsweepError

Interpolation = Literal["bilinear", "bicubic", "area"]
Triple = tuple[float, float, float]

_PIL_FILTERS = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}
# 8-bit modes PIL converts to L / RGB without losing range; 16-bit or float radiographs must be
# windowed to 8 bits first, or PIL would clip them silently.
_EIGHT_BIT_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}


class Preprocessing(BaseModel):
    """One model's pipeline: channels, resize, square centre crop, [0, 1] scaling, normalisation."""

    model_config = ConfigDict(frozen=True)

    resize: int = Field(gt=0)  # target of the resize step: shorter side, or longer side + pad
    crop: int = Field(gt=0)  # square centre crop: the model's input size
    resize_mode: Literal["shorter", "longer-pad"] = "shorter"  # longer-pad: GLoRIA's repo
    interpolation: Interpolation = "bilinear"
    crop_offset: Literal["round", "floor"] = "round"  # torchvision rounds; HF processors floor
    grayscale: bool = False  # luminance replicated to 3 channels, else RGB conversion
    mean: Triple | None = None  # None: values stay in [0, 1]
    std: Triple | None = None

    def __call__(self, image: Image.Image, box: CropBox | None = None) -> torch.Tensor:
        """One image to ``[3, crop, crop]``: the centre view, or the region ``box`` resized."""
        import torchvision.transforms.functional as F  # heavy import, needed only here

        image = self._channels(image)
        view = self._centre(image) if box is None else self._boxed(image, box)
        pixels = F.to_tensor(view)
        if pixels.shape[0] == 1:
            pixels = pixels.expand(3, -1, -1).contiguous()
        if self.mean is not None and self.std is not None:
            pixels = F.normalize(pixels, list(self.mean), list(self.std))
        return pixels

    def identity(self) -> dict[str, Any]:
        """JSON-able description: every number that changes the output."""
        return self.model_dump(mode="json")

    def scaled(self, crop: int) -> "Preprocessing":
        """The same pipeline at another input size (tiny models keep the resize/crop ratio)."""
        resize = round(self.resize * crop / self.crop)
        return self.model_copy(update={"crop": crop, "resize": resize})

    def _channels(self, image: Image.Image) -> Image.Image:
        if image.mode not in _EIGHT_BIT_MODES:
            raise RadsweepError(
                f"image mode {image.mode!r} is not 8-bit",
                hint="window 16-bit or float radiographs to 8 bits before encoding",
            )
        return image.convert("L" if self.grayscale else "RGB")

    def _centre(self, image: Image.Image) -> Image.Image:
        if self.resize_mode == "longer-pad":
            image = _longer_side_padded(image, self.resize)
        else:
            image = _resize_shorter(image, self.resize, self.interpolation)
        width, height = image.size
        if self.crop_offset == "floor":
            top, left = (height - self.crop) // 2, (width - self.crop) // 2
        else:  # torchvision's CenterCrop
            top, left = round((height - self.crop) / 2), round((width - self.crop) / 2)
        return image.crop((left, top, left + self.crop, top + self.crop))

    def _boxed(self, image: Image.Image, box: CropBox) -> Image.Image:
        left, top, width, height = box
        if width <= 0 or height <= 0 or left < 0 or top < 0:
            raise RadsweepError(f"crop box {box} needs a non-negative corner and a positive size")
        if left + width > image.width or top + height > image.height:
            raise RadsweepError(
                f"crop box {box} reaches outside the {image.width}x{image.height} image"
            )
        region = image.crop((left, top, left + width, top + height))
        return _resize(region, (self.crop, self.crop), self.interpolation)


def _resize(image: Image.Image, size: tuple[int, int], interpolation: Interpolation) -> Image.Image:
    """Resize to ``(width, height)``: PIL for bilinear/bicubic (as torchvision and HF do), OpenCV
    INTER_AREA for "area" (GLoRIA's repository)."""
    if interpolation == "area":
        resized = cv2.resize(np.asarray(image), size, interpolation=cv2.INTER_AREA)
        return Image.fromarray(resized)
    return image.resize(size, _PIL_FILTERS[interpolation])


def _resize_shorter(image: Image.Image, side: int, interpolation: Interpolation) -> Image.Image:
    """Shorter side to ``side``, aspect kept; the longer side truncates as torchvision's does."""
    width, height = image.size
    short, long = sorted((width, height))
    other = int(side * long / short)
    size = (side, other) if width <= height else (other, side)
    return _resize(image, size, interpolation)


def _longer_side_padded(image: Image.Image, side: int) -> Image.Image:
    """GLoRIA's ``_resize_img``: longer side to ``side`` (INTER_AREA), zero-padded to a square."""
    width, height = image.size
    if height >= width:
        size = (int(width * (side / height)), side)
    else:
        size = (side, int(height * (side / width)))
    resized = np.asarray(_resize(image, size, "area"))
    pad_x, pad_y = side - resized.shape[1], side - resized.shape[0]
    padding = [(pad_y // 2, pad_y - pad_y // 2), (pad_x // 2, pad_x - pad_x // 2)]
    padding += [(0, 0)] * (resized.ndim - 2)
    return Image.fromarray(np.pad(resized, padding))
