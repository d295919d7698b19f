"""Frozen image backbones and text encoders: registry, weight loading, preprocessing.

Importing the package registers every encoder (``images`` and ``text`` hold the entries; their
heavy libraries load only when an encoder is built).
"""

from radsweep.encoders import images, light, text
from radsweep.encoders.base import (
    CropBox,
    EncoderInfo,
    EncoderKind,
    ImageEncoder,
    ImageTokens,
    TextEncoder,
    TextTokens,
)
from radsweep.encoders.checkpoints import RANDOM_WEIGHTS
from radsweep.encoders.registry import (
    DEFAULT_MAX_LENGTH,
    build_image_encoder,
    build_text_encoder,
    encoder_variants,
    list_encoders,
)

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "RANDOM_WEIGHTS",
    "CropBox",
    "EncoderInfo",
    "EncoderKind",
    "ImageEncoder",
    "ImageTokens",
    "TextEncoder",
    "TextTokens",
    "build_image_encoder",
    "build_text_encoder",
    "encoder_variants",
    "images",
    "light",
    "list_encoders",
    "text",
]
