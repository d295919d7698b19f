import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from radsweep.features.fingerprint import ABSENT, file_fingerprint
from radsweep.features.keys import (
    ImageCacheSpec,
    TextCacheSpec,
    cache_key,
    image_cache_spec,
    text_cache_spec,
)
from radsweep.features.views import ViewPlan
from radsweep.tasks.manifest import Manifest, TaskFile
from tests.features.conftest import write_task
from tests.features.doubles import TinyImageEncoder, TinyTextEncoder

FIXED = ImageCacheSpec(
    encoder="medical-mae",
    weights="sha256:0123",
    preprocessing={"variant": "paper", "resize": 238, "crop": 224},
    views=ViewPlan(augmented=4, seed=0),
    pool=1,
    precision="fp16",
    images="a" * 64,
    source="b" * 64,
    content="e" * 64,
)


def test_a_key_is_a_pure_function_of_its_spec() -> None:
    # Golden value: a change here silently orphans every cache on disk (bump CACHE_FORMAT).
    assert cache_key(FIXED) == "medical-mae-image-626762c743c69b3f44c7"
    reordered = FIXED.model_copy(
        update={"preprocessing": {"crop": 224, "resize": 238, "variant": "paper"}}
    )
    assert cache_key(reordered) == cache_key(FIXED)


@pytest.mark.parametrize(
    "change",
    [
        {"encoder": "mrm"},
        {"weights": "sha256:4567"},
        {"preprocessing": {"variant": "repo", "resize": 256, "crop": 224}},
        {"decode": "gray8-v2"},
        {"views": ViewPlan(augmented=3, seed=0)},
        {"views": ViewPlan(augmented=4, seed=1)},
        {"views": ViewPlan(augmented=4, seed=0, scale=(0.3, 0.9))},
        {"pool": 2},
        {"precision": "bf16"},
        {"dtype": "float32"},
        {"images": "c" * 64},
        {"source": "d" * 64},
        {"content": "f" * 64},
    ],
)
def test_anything_that_changes_the_numbers_changes_the_key(change: dict[str, object]) -> None:
    assert cache_key(FIXED.model_copy(update=change)) != cache_key(FIXED)


def test_same_images_share_a_key_across_tasks_and_folders(tmp_path: Path) -> None:
    encoder = TinyImageEncoder()
    first = write_task(tmp_path / "one", samples=4)
    moved = write_task(tmp_path / "elsewhere" / "two", samples=4)
    keys = [
        cache_key(image_cache_spec(encoder, manifest, ViewPlan(), 1, "fp32"))
        for manifest in (first, moved)
    ]
    assert keys[0] == keys[1]


def test_other_pixels_under_the_same_paths_get_another_key(tmp_path: Path) -> None:
    encoder = TinyImageEncoder()
    first = write_task(tmp_path / "one", samples=4, seed=0)
    redrawn = write_task(tmp_path / "two", samples=4, seed=1)  # builder records the seed
    specs = [image_cache_spec(encoder, m, ViewPlan(), 1, "fp32") for m in (first, redrawn)]
    assert specs[0].images == specs[1].images
    assert cache_key(specs[0]) != cache_key(specs[1])


def test_weights_and_preprocessing_come_from_the_encoder(task: Manifest) -> None:
    spec = image_cache_spec(TinyImageEncoder(seed=3), task, ViewPlan(), 1, "fp32")
    assert spec.weights == "random-seed-3"
    assert spec.preprocessing == TinyImageEncoder().preprocessing_id()
    assert cache_key(spec) != cache_key(
        image_cache_spec(TinyImageEncoder(seed=4), task, ViewPlan(), 1, "fp32")
    )


def test_text_keys_follow_reports_and_max_length(task: Manifest, tmp_path: Path) -> None:
    base = text_cache_spec(TinyTextEncoder(), task, "fp32")
    assert isinstance(base, TextCacheSpec) and cache_key(base).startswith("tiny-text-text-")
    longer = text_cache_spec(TinyTextEncoder(max_length=20), task, "fp32")
    frame = task.frame.copy()
    frame.loc[0, "report"] = "FINDINGS: something else."
    edited = Manifest.write(tmp_path / "edited", frame, TaskFile(task=task.task), False)
    other_reports = text_cache_spec(TinyTextEncoder(), edited, "fp32")
    keys = {cache_key(spec) for spec in (base, longer, other_reports)}
    assert len(keys) == 3


def test_other_pixels_with_the_same_ids_paths_and_builder_get_another_key(tmp_path: Path) -> None:
    # Another hospital's export or a re-export: same ids, paths and task.json, other pixels.
    encoder = TinyImageEncoder()
    first = write_task(tmp_path / "one", samples=4, seed=0)
    other = write_task(tmp_path / "two", samples=4, seed=0)
    (other.image_root / other.frame["image_path"].iloc[2]).write_bytes(
        (first.image_root / first.frame["image_path"].iloc[3]).read_bytes()
    )
    specs = [image_cache_spec(encoder, m, ViewPlan(), 1, "fp32") for m in (first, other)]
    assert (specs[0].images, specs[0].source) == (specs[1].images, specs[1].source)
    assert cache_key(specs[0]) != cache_key(specs[1])


OLD_BLOCK = 4096  # the fingerprint once hashed only three such blocks (start, middle, end)


def _outside_the_old_blocks(offsets: list[int], size: int) -> bool:
    starts = (0, (size - OLD_BLOCK) // 2, size - OLD_BLOCK)
    return all(not start <= offset < start + OLD_BLOCK for offset in offsets for start in starts)


def test_one_pixel_edited_in_place_anywhere_changes_the_cache_key(tmp_path: Path) -> None:
    encoder = TinyImageEncoder()
    manifest = write_task(tmp_path / "task", samples=4, seed=0)
    path = manifest.image_root / manifest.frame["image_path"].iloc[1]
    pixels = np.random.default_rng(0).integers(0, 255, (128, 128), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format="BMP")  # uncompressed: a pixel is one byte
    before = path.read_bytes()
    spec = image_cache_spec(encoder, manifest, ViewPlan(), 1, "fp32")
    pixels[100, 20] ^= 0xFF  # a row a quarter into the file: between the old sampled blocks
    Image.fromarray(pixels).save(path, format="BMP")
    after = path.read_bytes()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1 and _outside_the_old_blocks(changed, len(after))
    edited = image_cache_spec(encoder, manifest, ViewPlan(), 1, "fp32")
    assert (edited.images, edited.source) == (spec.images, spec.source)
    assert cache_key(edited) != cache_key(spec)


def test_a_file_fingerprint_is_its_size_and_the_hash_of_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 200
    path.write_bytes(data)
    assert file_fingerprint(path) == f"{len(data)}:{hashlib.sha256(data).hexdigest()}"
    copy = tmp_path / "copy" / "big.bin"
    copy.parent.mkdir()
    copy.write_bytes(data)
    assert file_fingerprint(copy) == file_fingerprint(path)  # where it lies stays out
    assert file_fingerprint(tmp_path / "missing.png") == ABSENT
