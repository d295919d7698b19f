from pathlib import Path

import numpy as np
import pytest

from radsweep.errors import FeatureCacheError
from radsweep.features.extract import ExtractOptions, extract_text_features
from radsweep.features.reading import load_image_features, load_text_features
from radsweep.tasks.manifest import Manifest
from tests.features.doubles import TinyTextEncoder

OPTIONS = ExtractOptions(batch_size=6, shard_size=8)


def test_report_tokens_come_with_their_attention_mask(task: Manifest, cache_dir: Path) -> None:
    encoder = TinyTextEncoder(max_length=8)
    result = extract_text_features(encoder, task, cache_dir, OPTIONS)
    assert encoder.calls == 5  # batches of 6 inside shards of 8: 6+2, 6+2, 4
    features = load_text_features(cache_dir, result.key)
    assert features.tokens.shape == (20, 8, 8) and features.tokens.dtype == np.float16
    assert features.mask.shape == (20, 8) and features.mask.dtype == np.bool_
    reports = list(task.frame["report"])
    lengths = [min(len(report.split()), 8) for report in reports]
    assert features.mask.sum(axis=1).tolist() == lengths
    encoded = encoder.tokenize(reports)
    expected = encoder(encoded["input_ids"], encoded["attention_mask"]).tokens.detach().numpy()
    np.testing.assert_allclose(features.tokens, expected, rtol=2e-3, atol=2e-3)
    assert not features.tokens[~features.mask].any()  # padding rows are the padding embedding


def test_text_caches_are_reused_and_typed(task: Manifest, cache_dir: Path) -> None:
    first = extract_text_features(TinyTextEncoder(), task, cache_dir, OPTIONS)
    encoder = TinyTextEncoder()
    again = extract_text_features(encoder, task, cache_dir, OPTIONS)
    assert again.reused and encoder.calls == 0 and again.key == first.key
    with pytest.raises(FeatureCacheError, match="not a image cache"):
        load_image_features(cache_dir, first.key)
