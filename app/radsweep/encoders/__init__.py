"""Frozen image backbones and text encoders: the pretrained table, registry, weight loading,
preprocessing, and the weights inventory (``inventory``: list, add, fetch). The weights catalogue
they read (``radsweep.weights``) sits below them.

The package imports lazily: ``radsweep.encoders.pretrained`` (the table of names, sources and
display names) is read by reports without loading torch, and the registry imports its entries
(``images``, ``light``, ``text``) the first time an encoder is listed or built.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "CropBox": "base",
    "EncoderInfo": "base",
    "EncoderKind": "base",
    "ImageEncoder": "base",
    "ImageTokens": "base",
    "TextEncoder": "base",
    "TextTokens": "base",
    "RANDOM_WEIGHTS": "checkpoints",
    "DEFAULT_MAX_LENGTH": "registry",
    "build_image_encoder": "registry",
    "build_text_encoder": "registry",
    "encoder_variants": "registry",
    "list_encoders": "registry",
}

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
    "list_encoders",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'radsweep.encoders' has no attribute {name!r}")
    return getattr(import_module(f"radsweep.encoders.{_HOMES[name]}"), name)
