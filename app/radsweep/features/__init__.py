"""The feature cache: frozen-encoder tokens extracted once, read by training as memory maps.

Extraction (``radsweep features extract``, or the library calls below) writes fp16 tokens under
``Settings.cache / "features" / KEY``, where KEY hashes everything that changes them
(``keys``). Training reads them with:

``load_image_features(cache_dir, key) -> ImageFeatures``
    ``tokens``: ``[V, N, T, D]`` fp16 memmap (view 0 = centre, 1..K = RandomResizedCrop views),
    ``cls``: ``[V, N, D]`` or None, ``sample_ids``: ``[N]`` in manifest order (sorted ids),
    ``excluded``: sample_id -> reason for bad images skipped with ``--skip-bad`` (zero rows),
    ``valid``: ``[N]`` mask of usable rows, ``rows(ids)``: row positions of a split's ids.

``load_text_features(cache_dir, key) -> TextFeatures``
    ``tokens``: ``[N, L, D]`` fp16 memmap, ``mask``: ``[N, L]`` bool memmap (True = token),
    ``sample_ids``, ``rows(ids)`` as above.

``cache_dir`` is ``Settings().cache``. Both raise ``FeatureCacheError`` for a missing,
incomplete or visibly damaged cache; ``verify.verify_cache`` checks every byte against the
recorded checksums. ``listing.list_caches`` finds caches by spec (encoder, views, pooling, ...).
"""

from radsweep.features.extract import (
    ExtractionResult,
    ExtractOptions,
    extract_image_features,
    extract_text_features,
)
from radsweep.features.keys import ImageCacheSpec, TextCacheSpec, cache_key
from radsweep.features.listing import list_caches
from radsweep.features.reading import (
    ImageFeatures,
    TextFeatures,
    load_image_features,
    load_text_features,
)
from radsweep.features.views import ViewPlan

__all__ = [
    "ExtractOptions",
    "ExtractionResult",
    "ImageCacheSpec",
    "ImageFeatures",
    "TextCacheSpec",
    "TextFeatures",
    "ViewPlan",
    "cache_key",
    "extract_image_features",
    "extract_text_features",
    "list_caches",
    "load_image_features",
    "load_text_features",
]
