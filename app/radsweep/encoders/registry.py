"""The encoder registry: one decorated builder adds one encoder, keyed by (kind, name).

An entry's facts (architecture, token layout, weights source, variants) come from the pretrained
table (``radsweep.encoders.pretrained``); the decorator names the row its builder builds.
``biovil-t`` is both an image and a text encoder, hence the kind in the key. Builders only
construct and load; the registry hands every encoder out frozen (eval mode, no gradients) and on
the requested device, so no entry can forget to.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import torch

from radsweep.encoders.base import EncoderInfo, EncoderKind, ImageEncoder, TextEncoder
from radsweep.encoders.checkpoints import RANDOM_IDENTITY_PREFIX
from radsweep.encoders.info import table_info
from radsweep.encoders.pretrained import Pretrained, default_max_length, pretrained
from radsweep.errors import RadsweepError, did_you_mean
from radsweep.weights.catalogue import catalogue_file, catalogued_weights, check_identity
from radsweep.weights.links import require_fetchable

DEFAULT_MAX_LENGTH = 256  # text tokens per report; the paper does not state its choice


@dataclass(frozen=True)
class ImageRequest:
    """What a caller asked an image builder for (``variant`` already defaulted and checked)."""

    weights: str | Path | None
    tiny: bool
    variant: str | None


@dataclass(frozen=True)
class TextRequest:
    weights: str | Path | None
    tiny: bool
    max_length: int


@dataclass(frozen=True)
class Entry:
    info: EncoderInfo
    build: Callable[..., ImageEncoder | TextEncoder]
    variants: tuple[str, ...] = ()  # the first is the default


_ENTRIES: dict[tuple[EncoderKind, str], Entry] = {}
Builder = TypeVar("Builder", bound=Callable[..., ImageEncoder | TextEncoder])
EncoderT = TypeVar("EncoderT", ImageEncoder, TextEncoder)


def _register(entry: Pretrained) -> Callable[[Builder], Builder]:
    def decorate(build: Builder) -> Builder:
        key = (EncoderKind(entry.kind), entry.name)
        if key in _ENTRIES:
            raise ValueError(f"{entry.kind} encoder {entry.name!r} is registered twice")
        _ENTRIES[key] = Entry(table_info(entry), build, entry.variants)
        return build

    return decorate


def unregister_encoder(name: str, kind: EncoderKind) -> None:
    """Take an encoder out of the registry (one registered from outside, once it is done)."""
    _ENTRIES.pop((kind, name), None)


def register_image(
    name: str,
) -> Callable[[Callable[[ImageRequest], ImageEncoder]], Callable[[ImageRequest], ImageEncoder]]:
    """Decorator: ``build(ImageRequest) -> ImageEncoder`` builds the table's image row ``name``."""
    return _register(pretrained(name, "image"))


def register_text(
    name: str,
) -> Callable[[Callable[[TextRequest], TextEncoder]], Callable[[TextRequest], TextEncoder]]:
    """Decorator: ``build(TextRequest) -> TextEncoder`` builds the table's text row ``name``."""
    return _register(pretrained(name, "text"))


def registered_info(name: str, kind: EncoderKind) -> EncoderInfo:
    """The registered facts of one encoder (what builders start from before sizing)."""
    return _entry(kind, name).info


def _load_entries() -> None:
    """Import the modules whose decorators fill the registry (a no-op after the first call)."""
    from radsweep.encoders import images, light, text  # noqa: F401


def list_encoders(kind: EncoderKind | None = None) -> list[EncoderInfo]:
    """Every registered encoder (image encoders first), in registration order."""
    _load_entries()
    infos = [entry.info for entry in _ENTRIES.values()]
    return sorted(
        (info for info in infos if kind is None or info.kind == kind),
        key=lambda info: info.kind != EncoderKind.IMAGE,
    )


def encoder_variants(name: str, kind: EncoderKind = EncoderKind.IMAGE) -> tuple[str, ...]:
    """The preprocessing variants an encoder offers, default first (empty if it has none)."""
    return _entry(kind, name).variants


def build_image_encoder(
    name: str,
    weights: str | Path | None = None,
    *,
    tiny: bool = False,
    variant: str | None = None,
    device: str | torch.device = "cpu",
    catalogue: Path | None = None,
) -> ImageEncoder:
    """A frozen image encoder.

    ``weights``: None for the weights catalogue's entry (``catalogue``, default: the settings'
    weights.yaml), else the default source (the hub id, or random init when ``tiny``), a local
    file or folder, a hub id ``owner/name[@revision]``, or ``"random"`` for the full-size
    architecture randomly initialised.
    """
    entry = _entry(EncoderKind.IMAGE, name)
    checked = _variant(entry, variant)
    file = catalogue or catalogue_file()
    chosen = _catalogued(entry.info, weights, tiny, file)
    request = ImageRequest(chosen or weights, tiny, checked)
    encoder = cast(ImageEncoder, entry.build(request))  # image entries build image encoders
    return _checked(encoder, chosen is not None, device, file)


def build_text_encoder(
    name: str,
    weights: str | Path | None = None,
    *,
    tiny: bool = False,
    max_length: int | None = None,
    device: str | torch.device = "cpu",
    catalogue: Path | None = None,
) -> TextEncoder:
    """A frozen text encoder whose tokenizer pads and truncates to ``max_length`` (default: the
    pretrained row's, else 256); ``weights`` and ``catalogue`` as for ``build_image_encoder``."""
    entry = _entry(EncoderKind.TEXT, name)
    length = max_length or default_max_length(name) or DEFAULT_MAX_LENGTH
    file = catalogue or catalogue_file()
    chosen = _catalogued(entry.info, weights, tiny, file)
    encoder = cast(TextEncoder, entry.build(TextRequest(chosen or weights, tiny, length)))
    return _checked(encoder, chosen is not None, device, file)


def _catalogued(
    info: EncoderInfo, weights: str | Path | None, tiny: bool, file: Path
) -> Path | None:
    """The catalogue's weights when the caller named none and wants the full-size model."""
    if weights is not None or tiny:
        return None
    path = catalogued_weights(info.kind, info.name, file)
    if path is None:
        require_fetchable(info.kind, info.name, info.default_weights, str(file))
    return path


def _checked(
    encoder: EncoderT, catalogued: bool, device: str | torch.device, file: Path
) -> EncoderT:
    """Catalogued weights must hash to the catalogue's SHA-256: a corrupt copy fails here."""
    if catalogued:
        check_identity(encoder.info.kind, encoder.info.name, encoder.weights_identity, file)
    return _frozen(encoder, device)


def _entry(kind: EncoderKind, name: str) -> Entry:
    _load_entries()
    if (kind, name) not in _ENTRIES:
        known = ", ".join(info.name for info in list_encoders(kind))
        hint = f"{did_you_mean(name, known.split(', '))}choose one of: {known}"
        raise RadsweepError(f"unknown {kind} encoder {name!r}", hint=hint)
    return _ENTRIES[(kind, name)]


def _variant(entry: Entry, variant: str | None) -> str | None:
    if variant is None:
        return entry.variants[0] if entry.variants else None
    if variant not in entry.variants:
        offered = ", ".join(entry.variants) if entry.variants else "none"
        raise RadsweepError(
            f"encoder {entry.info.name!r} has no variant {variant!r}", hint=f"variants: {offered}"
        )
    return variant


def _frozen(encoder: EncoderT, device: str | torch.device) -> EncoderT:
    """Eval mode, no gradients, on ``device``; denormals flushed for random weights on CPU."""
    encoder.requires_grad_(False)
    encoder.eval()
    encoder.to(device)
    if torch.device(device).type == "cpu" and encoder.weights_identity.startswith(
        RANDOM_IDENTITY_PREFIX
    ):
        # Random weights drift into denormal floats, which run 3-15x slower on x86 CPUs.
        torch.set_flush_denormal(True)
    return encoder
