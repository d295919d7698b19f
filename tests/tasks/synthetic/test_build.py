import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from radsweep.errors import RadsweepError
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.synthetic import SYNTHETIC_TASKS, SynthBenchmark, SynthConfig, synthesize
from radsweep.tasks.synthetic import build as build_module


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_three_valid_task_manifests_over_shared_images(small_benchmark: SynthBenchmark) -> None:
    assert small_benchmark.task_names == tuple(SYNTHETIC_TASKS)
    frames = {name: small_benchmark.manifest(name).frame for name in small_benchmark.task_names}
    for name, frame in frames.items():
        assert len(frame) == 400
        assert set(frame["label"]) == set(range(SYNTHETIC_TASKS[name].n_classes))
        assert list(frame["image_path"]) == list(frames["synth-age"]["image_path"])
    assert set(frames["synth-diagnostic"]["pool"]) == {"train", "eval"}
    image = cv2.imread(
        str(small_benchmark.manifest("synth-age").image_paths()[0]), cv2.IMREAD_UNCHANGED
    )
    assert image.shape == (256, 256) and image.dtype == np.uint8


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    config = SynthConfig(samples=60, seed=11, image_size=64)
    first = _digest(synthesize(config, tmp_path / "a").directory)
    assert _digest(synthesize(config, tmp_path / "b").directory) == first
    other = SynthConfig(samples=60, seed=12, image_size=64)
    assert _digest(synthesize(other, tmp_path / "c").directory) != first


def test_an_identical_build_is_reused_and_a_new_config_rebuilds(tmp_path: Path) -> None:
    config = SynthConfig(samples=60, image_size=64)
    assert not synthesize(config, tmp_path / "s").reused
    assert synthesize(config, tmp_path / "s").reused
    assert not synthesize(config, tmp_path / "s", force=True).reused
    changed = config.model_copy(update={"outcome_noise": 2.0})
    rebuilt = synthesize(changed, tmp_path / "s")
    assert not rebuilt.reused
    assert rebuilt.manifest("synth-prognostic").info.builder["config"]["outcome_noise"] == 2.0


def test_an_interrupted_build_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_halfway(done: int, calls: list[int] = []) -> None:  # noqa: B006 - a call counter
        calls.append(done)
        if len(calls) == 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synthesize(SynthConfig(samples=60, image_size=64), tmp_path / "s", progress=fail_halfway)
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_a_folder_that_is_not_a_benchmark(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(RadsweepError, match="is not a synthetic benchmark"):
        synthesize(SynthConfig(samples=60, image_size=64), tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_the_manifests_pass_validation_with_image_checks(small_benchmark: SynthBenchmark) -> None:
    for name in small_benchmark.task_names:
        manifest = Manifest.load(small_benchmark.directory / name, check_images=True)
        assert manifest.task.name == name and not manifest.frame.empty


def test_marker_is_written_last(tmp_path: Path) -> None:
    benchmark = synthesize(SynthConfig(samples=60, image_size=64), tmp_path / "s")
    marker = benchmark.directory / build_module.MARKER
    manifests = [benchmark.directory / name / "manifest.parquet" for name in benchmark.task_names]
    assert all(marker.stat().st_mtime_ns >= path.stat().st_mtime_ns for path in manifests)
