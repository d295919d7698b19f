"""What an encoder is, as data: its kind and the static facts listings show.

Kept apart from the encoder contract (``radsweep.encoders.base``, which needs torch) so that
listing encoders and their weights (``radsweep weights``) reads the pretrained table alone.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from radsweep.encoders.pretrained import Pretrained, entries


class EncoderKind(StrEnum):
    IMAGE = "image"
    TEXT = "text"


class EncoderInfo(BaseModel):
    """Static facts about one registry entry, as ``radsweep features encoders`` lists them."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: EncoderKind
    architecture: str
    input_size: int | None  # image side in pixels; None for text encoders
    grid: tuple[int, int] | None  # local token grid (rows, cols) at input_size; None for text
    dim: int
    has_cls: bool
    default_weights: str  # hub id, or a description of where the release lives
    licence: str


def table_info(entry: Pretrained) -> EncoderInfo:
    """A pretrained-table row as the static facts the registry and the feature cache use."""
    grid = (entry.grid, entry.grid) if entry.grid is not None else None
    return EncoderInfo(
        name=entry.name,
        kind=EncoderKind(entry.kind),
        architecture=entry.architecture,
        input_size=entry.input_size,
        grid=grid,
        dim=entry.dim,
        has_cls=entry.has_cls,
        default_weights=entry.source or "none (parameter-free)",
        licence=entry.licence,
    )


def table_infos(kind: EncoderKind | None = None) -> list[EncoderInfo]:
    """Every row of the pretrained table (image rows first) as ``EncoderInfo``: the encoders the
    registry builds, listed without importing a model library."""
    rows = [table_info(entry) for entry in entries(kind.value if kind else None)]
    return sorted(rows, key=lambda info: info.kind != EncoderKind.IMAGE)
