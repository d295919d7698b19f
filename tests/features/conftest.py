"""Small image tasks written by the tests themselves (random-noise radiographs, no patient data)."""

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from radsweep.features.extract import extract_image_features
from radsweep.features.layout import CacheDir
from radsweep.tasks.manifest import Manifest, TaskFile
from radsweep.tasks.spec import RandomSplit, TaskKind, TaskSpec, TrainingSize
from tests.features.doubles import BUILD_OPTIONS, TinyImageEncoder

TASK = TaskSpec(
    name="tiny-features",
    title="feature-cache test task",
    kind=TaskKind.DIAGNOSTIC,
    classes=("negative", "positive"),
    split=RandomSplit(validation_share=0.25),
    sizes=(TrainingSize(fraction=1.0, epochs=1),),
)


def write_task(root: Path, samples: int, seed: int = 0) -> Manifest:
    """``samples`` random 8-bit PNGs (48x40) with a manifest; one patient per two images."""
    rng = np.random.default_rng(seed)
    paths = [f"images/s{i:03d}.png" for i in range(samples)]
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / path), rng.integers(0, 256, (40, 48), dtype=np.uint8))
    frame = pd.DataFrame(
        {
            "sample_id": [f"s{i:03d}" for i in range(samples)],
            "image_path": paths,
            "report": [f"FINDINGS: opacity grade {i % 5} in zone {i % 3}." for i in range(samples)],
            "label": [i % 2 for i in range(samples)],
            "patient_id": [f"p{i // 2:03d}" for i in range(samples)],
        }
    )
    builder = {"name": "feature-tests", "seed": seed}
    return Manifest.write(root, frame, TaskFile(task=TASK, builder=builder))


@pytest.fixture
def task(tmp_path: Path) -> Manifest:
    """A 20-image task in its own folder."""
    return write_task(tmp_path / "task", samples=20)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def built(task: Manifest, cache_dir: Path) -> CacheDir:
    """A complete image cache of ``task``, extracted by the tiny encoder."""
    key = extract_image_features(TinyImageEncoder(), task, cache_dir, options=BUILD_OPTIONS).key
    return CacheDir(cache_dir, key)
