"""Shared pieces for encoder tests: radiographs to preprocess and weights that differ from init."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

PUBLIC_NAMES = ("00000001_000.png", "00027426_000.png")


def _public_samples() -> Path | None:
    """shared/data/public-samples beside the checkout (main or a worktree), if present."""
    for parent in Path(__file__).parents:
        folder = parent / "shared" / "data" / "public-samples"
        if folder.is_dir():
            return folder
    return None


PUBLIC = _public_samples()


def synthetic_radiograph(width: int = 300, height: int = 240) -> Image.Image:
    """A non-square 8-bit grayscale image with structure (gradient plus a bright disc)."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = 40 + 150 * x / width + 60 * ((x - width / 3) ** 2 + (y - height / 2) ** 2 < 900)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


@pytest.fixture(scope="session")
def radiographs() -> list[Image.Image]:
    """The public NIH samples (512x512, mode L) when present, and always a non-square one."""
    images = [synthetic_radiograph()]
    if PUBLIC is not None:
        images += [Image.open(PUBLIC / name).copy() for name in PUBLIC_NAMES]
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
