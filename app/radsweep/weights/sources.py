"""Where each encoder's weights are published, as a link a user can open or a client can fetch.

The pretrained table (``radsweep.encoders.pretrained``) records each release as its authors
published it: a hub id, or the page or file link; ``published_source`` turns a record into a
``Source`` that says how it can be fetched.
"""

from radsweep.encoders.base import EncoderInfo, EncoderKind
from radsweep.encoders.registry import list_encoders
from radsweep.errors import RadsweepError, did_you_mean
from radsweep.weights.links import Source, SourceKind, parse_source


def published_source(kind: EncoderKind, name: str) -> Source:
    """The source the original authors published for one encoder's weights."""
    return parse_source(_info(kind, name).default_weights)


def weighted_encoders() -> list[EncoderInfo]:
    """Every registered encoder that loads published weights (image encoders first)."""
    return [
        info
        for info in list_encoders()
        if parse_source(info.default_weights).kind is not SourceKind.NONE
    ]


def _info(kind: EncoderKind, name: str) -> EncoderInfo:
    for info in list_encoders(kind):
        if info.name == name:
            return info
    known = ", ".join(info.name for info in list_encoders(kind))
    hint = f"{did_you_mean(name, known.split(', '))}choose one of: {known}"
    raise RadsweepError(f"unknown {kind} encoder {name!r}", hint=hint)
