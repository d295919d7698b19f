"""Runs logged by the real writer (W&B offline), read back by the real reader."""

import os
from pathlib import Path

import pandas as pd
import pytest

from radsweep.results.frames import ResultFrames
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.tracking import schema
from radsweep.tracking.reader import frames_from_wandb_runs
from radsweep.sweeps.agents import run_tracked
from radsweep.tracking.writer import cache_digests, feature_artifact
from tests.tracking.wandb_file import offline_runs


@pytest.fixture
def folders(small_benchmark: SynthBenchmark, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", data_dir=small_benchmark.directory.parent)


def _config(method: str, **extra: object) -> RunConfig:
    fields = {"text_encoder": "minilm", **extra}
    return RunConfig(
        task="synth-prognostic",
        backbone="c2l",
        method=method,
        fraction=0.25,
        seeds=(0, 1),
        epochs=2,
        tiny=True,
        **fields,
    )


def test_the_reader_rebuilds_the_stores_frames_from_what_the_writer_logged(
    folders: Settings,
) -> None:
    run_tracked(_config("distill"), folders, mode="offline", device="cpu", group="demo")
    logged = offline_runs(folders.wandb)
    assert len(logged) == 1  # the baseline is stored, not logged as a run of this spec
    image_only = run_tracked(_config("image"), folders, mode="offline", device="cpu")
    assert image_only.skipped  # trained as the baseline: replayed, not retrained
    logged = offline_runs(folders.wandb)
    frames = frames_from_wandb_runs(
        [run.as_wandb_run(f"2026-01-0{index + 1}") for index, run in enumerate(logged)], "W&B"
    )
    stored = ResultFrames.from_store(ResultsStore(default_store_path(folders)))

    order = ["run_key", "stage", "seed"]
    ours = frames.seed_metrics.sort_values(order).reset_index(drop=True)
    theirs = stored.seed_metrics.sort_values(order).reset_index(drop=True)
    assert list(ours.columns) == list(theirs.columns)
    same = [column for column in theirs.columns if column != "created_at"]
    pd.testing.assert_frame_equal(ours[same], theirs[same], check_dtype=False)
    curve_order = ["run_key", "stage", "seed", "epoch"]
    pd.testing.assert_frame_equal(
        frames.curves.sort_values(curve_order).reset_index(drop=True),
        stored.curves.sort_values(curve_order).reset_index(drop=True),
        check_dtype=False,
    )
    columns = ["run_key", *RunConfig.model_fields, "config", "cache_keys", "wandb_run_id"]
    pd.testing.assert_frame_equal(
        frames.runs[columns].sort_values("run_key").reset_index(drop=True),
        stored.runs[columns].sort_values("run_key").reset_index(drop=True),
        check_dtype=False,
    )


def test_a_stored_configuration_replays_into_its_run_tagged_cached(
    folders: Settings, small_benchmark: SynthBenchmark
) -> None:
    first = run_tracked(_config("distill"), folders, mode="offline", device="cpu", group="g")
    again = run_tracked(_config("distill"), folders, mode="offline", device="cpu", group="g")
    assert again.skipped and again.key == first.key
    trained, cached = offline_runs(folders.wandb)
    assert schema.CACHED_TAG in cached.tags and schema.CACHED_TAG not in trained.tags
    assert cached.summary[schema.SWEEP_METRIC] == trained.summary[schema.SWEEP_METRIC]
    assert _epochs(cached.history) == _epochs(trained.history)
    assert all(schema.SWEEP_METRIC in row for row in trained.history if "epoch" in row)
    for run in (trained, cached):
        [curves] = [a for a in run.artifacts if a.type == schema.CURVES_ARTIFACT_TYPE]
        assert curves.name == "curves-g" and first.key in curves.aliases
        assert set(run.config[schema.FEATURE_CACHES]) == set(first.cache_keys)
        assert all(len(digest) == 64 for digest in run.config[schema.FEATURE_CACHES].values())
    [heads] = [a for a in trained.artifacts if a.type == schema.HEADS_ARTIFACT_TYPE]
    assert heads.name == "heads-g" and first.key in heads.aliases
    assert not [a for a in cached.artifacts if a.type == schema.HEADS_ARTIFACT_TYPE]
    store = ResultsStore(default_store_path(folders))
    row = store.runs().set_index("run_key").loc[first.key]
    assert row["wandb_run_id"] == trained.id and row["wandb_url"] is None  # offline: no URL yet

    reports = small_benchmark.manifest("synth-prognostic").frame["report"]
    phrases = [b"FINAL REPORT", b"EXAMINATION:"] + [r.strip()[-60:].encode() for r in reports[:20]]
    ids = [
        str(sample).encode()
        for sample in small_benchmark.manifest("synth-prognostic").frame["sample_id"][:20]
    ]
    roots = [folders.wandb, *(Path(os.environ[n]) for n in ("WANDB_DATA_DIR", "WANDB_DIR"))]
    for path in (p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        assert not any(phrase in content for phrase in phrases + ids), path


def test_local_runs_have_one_identity_whatever_they_vary(folders: Settings) -> None:
    """Runs of one spec differing only in τ, or in the text encoder, get distinct names."""
    names = {
        schema.run_name(config.resolve(_task(folders)))
        for config in (
            _config("distill", tau=0.5),
            _config("distill", tau=1.0),
            _config("distill", tau=1.0, lam=0.2),
            _config("distill", text_encoder="biovil-t"),
            _config("image", head="mean-lp"),
            _config("image"),
        )
    }
    assert len(names) == 6
    run_tracked(_config("image"), folders, mode="offline", device="cpu", group="fig")
    [run] = offline_runs(folders.wandb)
    assert (run.group, run.job_type) == ("fig", "image")
    assert run.tags == ["synth-prognostic", "c2l", "image"]
    resolved = run.config[schema.RESOLVED]
    assert resolved["tau"] is None and resolved["text_encoder"] is None


def _epochs(history: list[dict]) -> list[dict]:
    """Per-epoch rows without W&B's own keys (times differ between runs)."""
    return [
        {key: value for key, value in row.items() if not key.startswith("_")}
        for row in history
        if "epoch" in row
    ]


def _task(folders: Settings):  # type: ignore[no-untyped-def]
    from radsweep.tasks.manifest import Manifest
    from radsweep.tasks.registry import find_task_directory

    return Manifest.load(find_task_directory("synth-prognostic", folders.data)).task


def test_a_feature_cache_artifact_references_only_its_marker(tiny_features: Settings) -> None:
    """What an online run uses as lineage: the cache's key, digest and marker, no arrays."""
    caches = (tiny_features.cache / "features").iterdir()
    key = next(path.name for path in caches if path.name.startswith("c2l-image-"))
    digests = cache_digests(tiny_features.cache, (key,))
    artifact = feature_artifact(tiny_features.cache, key, digests[key])
    assert artifact.type == schema.FEATURES_ARTIFACT_TYPE
    assert artifact.metadata == {"cache_key": key, "digest": digests[key]}
    [entry] = artifact.manifest.entries.values()
    assert entry.path == "COMPLETE" and entry.ref.endswith(f"/{key}/COMPLETE")
    assert len(digests[key]) == 64
