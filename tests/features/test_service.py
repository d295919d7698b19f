"""Extraction for a task by encoder names: the path `features extract` and a run's prepare share."""

from pathlib import Path

import pytest

import radsweep.encoders
from radsweep.errors import RadsweepError
from radsweep.features.extract import ExtractOptions
from radsweep.features.service import ImageRequest, TextRequest, extract_for_task
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import prepare
from radsweep.settings import Settings
from radsweep.tasks.manifest import Manifest
from tests.features.doubles import TinyImageEncoder, TinyTextEncoder

SMALL = ExtractOptions(batch_size=4, workers=0, shard_size=8)


def test_the_command_and_a_run_address_the_same_cache(tiny_features: Settings) -> None:
    done = extract_for_task(
        "synth-prognostic", tiny_features, ImageRequest("c2l", tiny=True), device="cpu"
    )
    assert done.image is not None and done.text is None
    assert done.image.reused  # the session fixture extracted it through a run's prepare step
    config = RunConfig(task="synth-prognostic", backbone="c2l", fraction=1.0, tiny=True)
    assert prepare(config, tiny_features, device="cpu").cache_keys == [done.image.key]


def test_progress_is_a_running_total_per_encoder(
    task: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        radsweep.encoders, "build_image_encoder", lambda *_, **__: TinyImageEncoder()
    )
    monkeypatch.setattr(radsweep.encoders, "build_text_encoder", lambda *_, **__: TinyTextEncoder())
    settings = Settings(home=tmp_path / "home", cache_dir=tmp_path / "cache")
    seen: dict[str, list[tuple[int, int]]] = {}
    done = extract_for_task(
        str(task.directory),
        settings,
        ImageRequest("tiny-conv"),
        TextRequest("tt"),
        device="cpu",
        options=SMALL,
        progress=lambda what, count, total: seen.setdefault(what, []).append((count, total)),
    )
    assert done.image is not None and done.text is not None
    assert done.image.computed_shards == done.text.computed_shards == 3
    assert set(seen) == {"tiny-conv tokens", "tt report tokens"}
    for events in seen.values():
        counts = [count for count, _ in events]
        assert counts == sorted(counts) and events[-1] == (20, 20)


def test_nothing_requested_is_a_user_error(task: Manifest, tmp_path: Path) -> None:
    with pytest.raises(RadsweepError, match="nothing to extract"):
        extract_for_task(str(task.directory), Settings(home=tmp_path / "home"))
