"""The encoder contract: what every frozen encoder gives the feature cache.

The feature cache depends only on this module, so any encoder that honours it (a registry entry, or
a test double) can be cached. The registry (``radsweep.encoders.registry``) builds the real ones.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from radsweep.encoders.info import EncoderInfo, EncoderKind

__all__ = [
    "CropBox",
    "EncoderInfo",
    "EncoderKind",
    "ImageEncoder",
    "ImageTokens",
    "TextEncoder",
    "TextTokens",
]

# (left, top, width, height) in the source image's pixel frame: one RandomResizedCrop draw.
CropBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class ImageTokens:
    """Local tokens ``[N, T, D]`` (grids flattened row-major); the CLS token ``[N, D]`` if any."""

    tokens: torch.Tensor
    cls: torch.Tensor | None


@dataclass(frozen=True)
class TextTokens:
    """Token embeddings ``[N, L, D]`` and the attention mask ``[N, L]`` (bool, True = token)."""

    tokens: torch.Tensor
    mask: torch.Tensor


class ImageEncoder(torch.nn.Module, ABC):
    """A frozen image backbone with its own preprocessing."""

    info: EncoderInfo
    weights_identity: str  # file sha256 or hub revision: the cache keys on it

    @abstractmethod
    def preprocessing_id(self) -> dict[str, Any]:
        """A JSON-able description of the preprocessing (variant included) for cache keys."""

    @abstractmethod
    def preprocess(self, image: Image.Image, box: CropBox | None = None) -> torch.Tensor:
        """One image to the model's input ``[C, H, W]``.

        ``box=None`` is the model's own centre view; a box crops that region of the source image
        and resizes it to the input size instead (the paper's RandomResizedCrop augmentation).
        """

    @abstractmethod
    def forward(self, pixels: torch.Tensor) -> ImageTokens:
        """A batch ``[N, C, H, W]`` of preprocessed images to tokens."""


class TextEncoder(torch.nn.Module, ABC):
    """A frozen text encoder with its tokenizer."""

    info: EncoderInfo
    weights_identity: str
    max_length: int

    @abstractmethod
    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Texts to ``input_ids`` and ``attention_mask`` padded/truncated to ``max_length``."""

    @abstractmethod
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextTokens:
        """A tokenized batch to token embeddings and the boolean mask."""
