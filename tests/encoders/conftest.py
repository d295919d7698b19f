"""Shared pieces for encoder tests: radiographs to preprocess and weights that differ from init."""

import numpy as np
import pytest
import torch
from PIL import Image

from tests import PUBLIC_SAMPLES

PUBLIC_NAMES = ("00000001_000.png", "00027426_000.png")


def synthetic_radiograph(width: int = 300, height: int = 240) -> Image.Image:
    """A non-square 8-bit grayscale image with structure (gradient plus a bright disc)."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = 40 + 150 * x / width + 60 * ((x - width / 3) ** 2 + (y - height / 2) ** 2 < 900)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


@pytest.fixture(scope="session")
def radiographs() -> list[Image.Image]:
    """The public NIH samples (512x512, mode L) and a synthetic non-square one."""
    images = [synthetic_radiograph()]
    images += [Image.open(PUBLIC_SAMPLES / name).copy() for name in PUBLIC_NAMES]
    return images


def perturb(module: torch.nn.Module, seed: int = 1) -> torch.nn.Module:
    """Move every float parameter and buffer away from the seeded init, so that equal outputs
    after a round trip prove the weights were loaded (variances stay positive)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.randn(tensor.shape, generator=generator) * 0.05
                tensor.add_(noise.abs() if name.endswith("running_var") else noise)
    return module
