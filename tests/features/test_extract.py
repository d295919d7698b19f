import dataclasses
import errno
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from radsweep.errors import FeatureCacheError
from radsweep.features.decode import decode_image
from radsweep.features.extract import ExtractOptions, extract_image_features
from radsweep.features.layout import CacheDir
from radsweep.features.reading import load_image_features
from radsweep.features.views import ViewPlan
from radsweep.tasks.manifest import Manifest
from tests.features.doubles import SimulatedKill, TinyImageEncoder

# 20 samples in shards of 8 (8, 8, 4), batches of 4: 5 batches, so 5 forward calls per view.
SMALL = ExtractOptions(batch_size=4, shard_size=8, workers=0)
TWO_VIEWS = ViewPlan(augmented=1, seed=3)


def _bytes(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in ("tokens.npy", "cls.npy")}


def test_tokens_are_the_encoders_output_for_each_view(task: Manifest, cache_dir: Path) -> None:
    encoder = TinyImageEncoder()
    result = extract_image_features(encoder, task, cache_dir, TWO_VIEWS, options=SMALL)
    features = load_image_features(cache_dir, result.key)
    assert features.tokens.shape == (2, 20, 16, 8) and features.tokens.dtype == np.float16
    assert features.cls is not None and features.cls.shape == (2, 20, 8)
    assert list(features.sample_ids) == list(task.frame["sample_id"])
    assert features.valid.all() and features.spec.views == TWO_VIEWS
    for row in (0, 13):
        image = decode_image(task.image_paths()[row])
        boxes = TWO_VIEWS.boxes(task.frame["sample_id"][row], image.width, image.height)
        for view, box in enumerate(boxes):
            with torch.no_grad():
                expected = encoder(encoder.preprocess(image, box)[None])
            np.testing.assert_allclose(
                features.tokens[view, row], expected.tokens[0].numpy(), rtol=2e-3, atol=2e-3
            )
            np.testing.assert_allclose(
                features.cls[view, row], expected.cls[0].numpy(), rtol=2e-3, atol=2e-3
            )
    assert not np.array_equal(features.tokens[0], features.tokens[1])  # views really differ


def test_a_finished_cache_is_reused_without_computing(task: Manifest, cache_dir: Path) -> None:
    first = extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL)
    encoder = TinyImageEncoder()
    again = extract_image_features(encoder, task, cache_dir, options=SMALL)
    assert (first.reused, again.reused) == (False, True)
    assert again.key == first.key and encoder.calls == 0
    forced = extract_image_features(
        encoder, task, cache_dir, options=ExtractOptions(batch_size=4, workers=0, force=True)
    )
    assert not forced.reused and encoder.calls == 5


def test_views_do_not_depend_on_batching_or_workers(task: Manifest, tmp_path: Path) -> None:
    runs = []
    for index, options in enumerate([SMALL, ExtractOptions(batch_size=3, shard_size=5, workers=1)]):
        result = extract_image_features(
            TinyImageEncoder(), task, tmp_path / f"cache-{index}", TWO_VIEWS, options=options
        )
        runs.append(load_image_features(tmp_path / f"cache-{index}", result.key))
    np.testing.assert_array_equal(runs[0].tokens, runs[1].tokens)
    assert runs[0].key == runs[1].key


def test_pooling_shrinks_the_grid_and_keeps_cls(task: Manifest, cache_dir: Path) -> None:
    result = extract_image_features(TinyImageEncoder(), task, cache_dir, pool=2, options=SMALL)
    features = load_image_features(cache_dir, result.key)
    assert features.tokens.shape == (1, 20, 4, 8)  # 4x4 grid -> 2x2
    assert features.cls is not None and features.cls.shape == (1, 20, 8)


def test_resume_after_a_kill_recomputes_only_unfinished_shards(
    task: Manifest, tmp_path: Path
) -> None:
    reference = extract_image_features(
        TinyImageEncoder(), task, tmp_path / "reference", TWO_VIEWS, options=SMALL
    )
    cache_dir = tmp_path / "cache"
    # Batches 1-2 (4 calls: 2 views each) finish shard 0; call 5 dies inside shard 1.
    with pytest.raises(SimulatedKill):
        extract_image_features(
            TinyImageEncoder(fail_after=5), task, cache_dir, TWO_VIEWS, options=SMALL
        )
    cache = CacheDir(cache_dir, reference.key)
    assert sorted(cache.done_shards()) == [0] and not cache.is_complete()
    with pytest.raises(FeatureCacheError, match=r"incomplete \(1/3 shards\)"):
        load_image_features(cache_dir, reference.key)
    # What a SIGKILL leaves behind: a half-written shard file and a stray temporary.
    (cache.shards_dir / "000001.tokens.npy.partial").write_bytes(b"\x93NUMPY half")
    (cache.shards_dir / ".000001.json.abc.tmp").write_text("{")

    resumed = TinyImageEncoder()
    result = extract_image_features(resumed, task, cache_dir, TWO_VIEWS, options=SMALL)
    assert resumed.calls == 6  # shards 1 and 2: three batches, two views each
    assert (result.computed_shards, result.total_shards) == (2, 3)
    assert _bytes(result.directory) == _bytes(reference.directory)
    assert not cache.shards_dir.exists()


def test_a_second_writer_is_refused(task: Manifest, cache_dir: Path) -> None:
    key = extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL).key
    with CacheDir(cache_dir, key).lock(), pytest.raises(FeatureCacheError, match="another"):
        extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL)


class _Overflowing(TinyImageEncoder):
    def forward(self, pixels: torch.Tensor):  # type: ignore[no-untyped-def]
        out = super().forward(pixels)
        return type(out)(tokens=out.tokens * 1e6, cls=out.cls)


def test_values_beyond_fp16_are_an_error_not_inf(task: Manifest, cache_dir: Path) -> None:
    with pytest.raises(FeatureCacheError, match="fp16"):
        extract_image_features(_Overflowing(), task, cache_dir, options=SMALL)


def _spoil(task: Manifest) -> dict[str, str]:
    """Make three images bad in three ways; return sample_id -> expected reason."""
    paths = task.image_paths()
    paths[2].write_bytes(b"")
    paths[9].write_bytes(b"not an image" * 20)
    Image.new("RGBA", (40, 48)).save(paths[17])
    ids = task.frame["sample_id"]
    return {ids[2]: "empty file", ids[9]: "unreadable image", ids[17]: "unexpected image mode"}


def test_bad_images_stop_the_run_with_their_list(task: Manifest, cache_dir: Path) -> None:
    _spoil(task)
    encoder = TinyImageEncoder()
    with pytest.raises(FeatureCacheError, match=r"3 image\(s\).*list is in") as caught:
        extract_image_features(encoder, task, cache_dir, options=SMALL)
    assert "--skip-bad" in (caught.value.hint or "")
    assert encoder.calls == 0  # found before any compute
    listing = next(cache_dir.rglob("bad-images.tsv")).read_text().splitlines()
    assert listing[0] == "image_path\treason"
    assert [line.split("\t")[0] for line in listing[1:]] == [
        task.frame["image_path"][i] for i in (2, 9, 17)
    ]


def test_images_that_fail_only_when_decoded_stop_the_run_too(
    task: Manifest, cache_dir: Path
) -> None:
    path = task.image_paths()[12]
    path.write_bytes(path.read_bytes()[:-40])  # the header survives, the pixels do not
    with pytest.raises(FeatureCacheError, match=r"1 image\(s\).*truncated"):
        extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL)
    [cache] = [CacheDir(cache_dir, path.name) for path in (cache_dir / "features").iterdir()]
    assert sorted(cache.done_shards()) == [0]  # the finished shard is kept for the resume


def test_skip_bad_records_exclusions(task: Manifest, cache_dir: Path) -> None:
    expected = _spoil(task)
    options = ExtractOptions(batch_size=4, shard_size=8, workers=0, skip_bad=True)
    result = extract_image_features(TinyImageEncoder(), task, cache_dir, options=options)
    assert set(result.excluded) == set(expected)
    features = load_image_features(cache_dir, result.key)
    for sample_id, reason in expected.items():
        assert features.excluded[sample_id].startswith(reason)
    assert features.valid.sum() == 17
    assert not features.tokens[:, ~features.valid].any()  # excluded rows hold zeros
    assert features.tokens[:, features.valid].any(axis=(2, 3)).all()
    good = [sid for sid in task.frame["sample_id"] if sid not in expected]
    assert list(features.sample_ids[features.rows(good)]) == good
    with pytest.raises(FeatureCacheError, match="excluded"):
        features.rows(list(expected))
    # Asking again without --skip-bad must not hand out a cache that lacks samples silently.
    with pytest.raises(FeatureCacheError, match="lacks 3 bad image"):
        extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL)
    # Training (train, sweeps) takes the recorded exclusions: they have no --skip-bad to pass.
    training = dataclasses.replace(SMALL, reuse_excluded=True)
    reused = extract_image_features(TinyImageEncoder(), task, cache_dir, options=training)
    assert reused.reused and set(reused.excluded) == set(expected)


def test_bad_images_name_the_command_that_records_them(task: Manifest, cache_dir: Path) -> None:
    _spoil(task)
    with pytest.raises(FeatureCacheError) as caught:
        extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL)
    assert "radsweep features extract --task tiny-features" in (caught.value.hint or "")


def test_a_disk_too_small_for_the_cache_is_refused_before_writing(
    task: Manifest, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from radsweep.features import extract

    full = SimpleNamespace(total=1, used=1, free=100)  # what shutil.disk_usage returns, by name
    monkeypatch.setattr(extract.shutil, "disk_usage", lambda _: full)
    with pytest.raises(FeatureCacheError, match=r"needs about .* GiB .* 0\.00 GiB free"):
        extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL)
    assert not any(cache_dir.rglob("*.npy*"))


def test_a_full_disk_is_an_error_not_a_sigbus(
    task: Manifest, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from radsweep.features import writing

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writing.os, "posix_fallocate", full)
    with pytest.raises(FeatureCacheError, match=r"no space left for 000000\.tokens\.npy\.partial"):
        extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL)
    assert not any(cache_dir.rglob("*.partial"))


def test_autocast_precision_is_part_of_the_key(task: Manifest, tmp_path: Path) -> None:
    exact = extract_image_features(TinyImageEncoder(), task, tmp_path / "a", options=SMALL)
    options = ExtractOptions(batch_size=4, shard_size=8, workers=0, precision="bf16")
    rounded = extract_image_features(TinyImageEncoder(), task, tmp_path / "b", options=options)
    assert exact.key != rounded.key
    tokens = [
        load_image_features(folder, result.key).tokens.astype(np.float32)
        for folder, result in ((tmp_path / "a", exact), (tmp_path / "b", rounded))
    ]
    assert not np.array_equal(tokens[0], tokens[1])
    np.testing.assert_allclose(tokens[0], tokens[1], rtol=0.05, atol=0.05)


def test_a_failing_disk_write_stops_the_run(
    task: Manifest, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from radsweep.features import writing

    def full_disk(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writing.ShardFile, "commit", full_disk)
    with pytest.raises(OSError, match="No space left"):
        extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL)
    assert not any(cache_dir.rglob("*.partial"))


def test_a_waiting_writer_reuses_what_the_first_one_finished(
    task: Manifest, cache_dir: Path
) -> None:
    import dataclasses
    import threading

    key = extract_image_features(TinyImageEncoder(), task, cache_dir, options=SMALL).key
    waiting = dataclasses.replace(SMALL, wait_for_lock=True)
    results = []
    with CacheDir(cache_dir, key).lock():
        worker = threading.Thread(
            target=lambda: results.append(
                extract_image_features(TinyImageEncoder(), task, cache_dir, options=waiting)
            )
        )
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive() and not results  # blocked behind the first writer
    worker.join(timeout=60)
    assert results and results[0].reused and results[0].key == key


@pytest.mark.parametrize("backbone", ["c2l", "medical-mae", "rad-dino"])
def test_bf16_tokens_match_fp32(backbone: str, task: Manifest, tmp_path: Path) -> None:
    """Mixed precision keeps the tokens: cosine >= 0.999 against fp32, token by token (CPU)."""
    from radsweep.encoders import build_image_encoder

    encoder = build_image_encoder(backbone, tiny=True)
    tokens = {}
    for precision in ("fp32", "bf16"):
        options = ExtractOptions(batch_size=8, workers=0, precision=precision)
        result = extract_image_features(encoder, task, tmp_path / precision, options=options)
        tokens[precision] = torch.from_numpy(
            load_image_features(tmp_path / precision, result.key).tokens.astype(np.float32)
        )
    cosine = torch.nn.functional.cosine_similarity(tokens["fp32"], tokens["bf16"], dim=-1)
    assert cosine.min().item() >= 0.999
    assert not torch.equal(tokens["fp32"], tokens["bf16"])  # bf16 really ran


def test_default_precision_and_batch_on_the_cpu() -> None:
    from radsweep.features.extract import CPU_BATCH, fit_batch_size, resolve_precision

    assert resolve_precision(torch.device("cpu"), None) == "fp32"
    assert resolve_precision(torch.device("cpu"), "bf16") == "bf16"
    assert fit_batch_size(TinyImageEncoder(), "fp32") == CPU_BATCH


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_batch_size_fits_gpu_memory() -> None:
    from radsweep.encoders import build_image_encoder
    from radsweep.features.extract import MAX_BATCH, fit_batch_size, resolve_precision

    device = torch.device("cuda")
    precision = resolve_precision(device, None)
    assert precision == ("bf16" if torch.cuda.is_bf16_supported() else "fp16")
    encoder = build_image_encoder("rad-dino", "random", device=device)
    batch = fit_batch_size(encoder, precision)
    assert 1 <= batch <= MAX_BATCH and batch & (batch - 1) == 0
    size = encoder.info.input_size
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
        encoder(torch.zeros(batch, 3, size, size, device=device))  # no out-of-memory error
