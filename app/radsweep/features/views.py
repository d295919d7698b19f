"""The views a cache holds: the encoder's centre view plus K RandomResizedCrop views.

Training keeps the paper's augmentation (RandomResizedCrop, scale 0.4-0.9) without running the
backbone every epoch by caching K augmented views per image. Each crop box is drawn from a
generator seeded by (sample id, view, seed), so a box never depends on manifest order, batch
size, worker count or which shards a resumed run had already finished.
"""

import hashlib
import math

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from radsweep.encoders.base import CropBox

_ATTEMPTS = 10


class ViewPlan(BaseModel):
    """View 0 is the centre view; views 1..augmented are RandomResizedCrop draws."""

    model_config = ConfigDict(frozen=True)

    augmented: int = Field(default=0, ge=0, le=64)
    seed: int = 0
    scale: tuple[float, float] = (0.4, 0.9)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)

    @model_validator(mode="after")
    def _check(self) -> "ViewPlan":
        if not 0 < self.scale[0] <= self.scale[1] <= 1:
            raise ValueError(f"crop scale must satisfy 0 < low <= high <= 1: {self.scale}")
        if not 0 < self.ratio[0] <= self.ratio[1]:
            raise ValueError(f"crop ratio must satisfy 0 < low <= high: {self.ratio}")
        return self

    @property
    def count(self) -> int:
        return 1 + self.augmented

    def boxes(self, sample_id: str, width: int, height: int) -> list[CropBox | None]:
        """One entry per view: None for the centre view, then the augmented crop boxes."""
        return [None] + [
            crop_box(self, sample_id, view, width, height) for view in range(1, self.augmented + 1)
        ]


def _generator(sample_id: str, view: int, seed: int) -> np.random.Generator:
    material = f"radsweep-view\x1f{sample_id}\x1f{view}\x1f{seed}".encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(material).digest()[:8]))


def crop_box(plan: ViewPlan, sample_id: str, view: int, width: int, height: int) -> CropBox:
    """torchvision's RandomResizedCrop.get_params, drawn from a per-(sample, view, seed) stream."""
    rng = _generator(sample_id, view, plan.seed)
    area = width * height
    log_ratio = (math.log(plan.ratio[0]), math.log(plan.ratio[1]))
    for _ in range(_ATTEMPTS):
        target = area * rng.uniform(*plan.scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        crop_width = round(math.sqrt(target * aspect))
        crop_height = round(math.sqrt(target / aspect))
        if 0 < crop_width <= width and 0 < crop_height <= height:
            top = int(rng.integers(0, height - crop_height + 1))
            left = int(rng.integers(0, width - crop_width + 1))
            return (left, top, crop_width, crop_height)
    return _central_fallback(plan, width, height)


def _central_fallback(plan: ViewPlan, width: int, height: int) -> CropBox:
    """torchvision's fallback: the whole image, clamped to the allowed aspect ratios."""
    aspect = width / height
    if aspect < plan.ratio[0]:
        crop_width, crop_height = width, round(width / plan.ratio[0])
    elif aspect > plan.ratio[1]:
        crop_width, crop_height = round(height * plan.ratio[1]), height
    else:
        crop_width, crop_height = width, height
    return ((width - crop_width) // 2, (height - crop_height) // 2, crop_width, crop_height)
