"""Cache keys: a stable hash of everything that changes the cached numbers.

Same key, same numbers: a finished cache is reused. Anything that changes a single value
(encoder, weights, preprocessing, decoding, views and their seed, pooling, precision, stored
dtype, the image list or the reports) changes the key, so different caches never mix. Things
that do not change the numbers (task name, batch size, worker count, device) stay out of it.
"""

import hashlib
import json
import re
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from radsweep.encoders.base import ImageEncoder, TextEncoder
from radsweep.features.decode import DECODE_ID
from radsweep.features.fingerprint import content_fingerprint
from radsweep.features.views import ViewPlan
from radsweep.tasks.manifest import Manifest

CACHE_FORMAT = 2  # 2: image caches key on a content fingerprint of the files
STORED_DTYPE = "float16"
Precision = Literal["fp32", "fp16", "bf16"]


class ImageCacheSpec(BaseModel):
    """What an image cache holds: its key is the hash of this record."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["image"] = "image"
    format: int = CACHE_FORMAT
    encoder: str
    weights: str
    preprocessing: dict[str, Any]
    decode: str = DECODE_ID
    views: ViewPlan
    pool: Annotated[int, Field(ge=1)] = 1
    dtype: str = STORED_DTYPE
    precision: Precision
    images: str  # Manifest.image_list_hash(): sample ids and relative image paths
    source: str  # hash of task.json's builder provenance: same paths, other pixels, other key
    content: str  # fingerprint.content_fingerprint() of the image files: what the pixels are


class TextCacheSpec(BaseModel):
    """What a report cache holds: its key is the hash of this record."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["text"] = "text"
    format: int = CACHE_FORMAT
    encoder: str
    weights: str
    max_length: int
    dtype: str = STORED_DTYPE
    precision: Precision
    reports: str  # hash of (sample_id, report) pairs


CacheSpec = Annotated[ImageCacheSpec | TextCacheSpec, Field(discriminator="kind")]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _digest(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def cache_key(spec: ImageCacheSpec | TextCacheSpec) -> str:
    """``<encoder>-<kind>-<20 hex>``: readable in ``ls``, unique by the hash of the whole spec."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", spec.encoder.lower()).strip("-") or "encoder"
    return f"{slug}-{spec.kind}-{_digest(spec.model_dump(mode='json'))[:20]}"


def source_hash(manifest: Manifest) -> str:
    """The builder's provenance (e.g. the synthetic benchmark's knobs), hashed.

    The image list alone names files, not pixels: two synthetic benchmarks built with different
    knobs share sample ids and paths. The builder record tells them apart.
    """
    return _digest(manifest.info.builder)


def report_list_hash(frame: pd.DataFrame) -> str:
    """A digest of (sample_id, report) pairs in manifest order."""
    digest = hashlib.sha256()
    for sample_id, report in zip(frame["sample_id"], frame["report"], strict=True):
        digest.update(f"{sample_id}\0{report}\x1e".encode())
    return digest.hexdigest()


def image_cache_spec(
    encoder: ImageEncoder,
    manifest: Manifest,
    views: ViewPlan,
    pool: int,
    precision: Precision,
) -> ImageCacheSpec:
    return ImageCacheSpec(
        encoder=encoder.info.name,
        weights=encoder.weights_identity,
        preprocessing=json.loads(_canonical(encoder.preprocessing_id())),
        views=views,
        pool=pool,
        precision=precision,
        images=manifest.image_list_hash(),
        source=source_hash(manifest),
        content=content_fingerprint(manifest.image_paths()),
    )


def text_cache_spec(
    encoder: TextEncoder, manifest: Manifest, precision: Precision
) -> TextCacheSpec:
    return TextCacheSpec(
        encoder=encoder.info.name,
        weights=encoder.weights_identity,
        max_length=encoder.max_length,
        precision=precision,
        reports=report_list_hash(manifest.frame),
    )
