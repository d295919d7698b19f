"""Runs logged by the real writer (W&B offline), read back by the real reader."""

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
import wandb

from radsweep.results.frames import ResultFrames
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import RunHooks, run_configuration
from radsweep.runs.observer import RunObserver
from radsweep.settings import Settings
from radsweep.sweeps.agents import run_tracked
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.tracking import schema
from radsweep.tracking.reader import frames_from_wandb_runs
from radsweep.tracking.writer import cache_digests, feature_artifact
from radsweep.training.engine import EpochEvent
from tests.tracking.wandb_file import OfflineRun, offline_runs


@pytest.fixture
def folders(small_benchmark: SynthBenchmark, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", data_dir=small_benchmark.directory.parent)


def _config(method: str, **extra: object) -> RunConfig:
    fields = {"text_encoder": "minilm", "epochs": 2, **extra}
    return RunConfig(
        task="synth-prognostic",
        backbone="c2l",
        method=method,
        fraction=0.25,
        seeds=(0, 1),
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
    model_rows = [row for row in trained.history if "loss/mean" in row]  # teacher rows apart
    assert model_rows and all(schema.SWEEP_METRIC in row for row in model_rows)
    for run in (trained, cached):
        [curves] = [a for a in run.artifacts if a.type == schema.CURVES_ARTIFACT_TYPE]
        assert curves.name == "curves-g" and first.key in curves.aliases
        assert set(run.config[schema.FEATURE_CACHES]) == set(first.cache_keys)
        assert all(len(digest) == 64 for digest in run.config[schema.FEATURE_CACHES].values())
    for run in (trained, cached):  # heads are uploaded only when asked (test_heads_upload)
        assert not [a for a in run.artifacts if a.type == schema.HEADS_ARTIFACT_TYPE]
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


@pytest.mark.parametrize("spec", ["my sweep", "Röntgen-Thorax", "a/b:c", "x" * 200])
def test_any_spec_file_name_gives_valid_distinct_artifact_names(spec: str) -> None:
    import wandb

    for name in (schema.curves_artifact_name(spec), schema.heads_artifact_name(spec)):
        assert wandb.Artifact(name, type="x").name == name  # W&B's own check accepts it
        assert len(name) <= 128
    assert schema.curves_artifact_name(spec) == schema.curves_artifact_name(spec)
    assert schema.artifact_safe(spec) != schema.artifact_safe(spec.replace(spec[0], "_", 1))
    assert schema.curves_artifact_name("plain-name_1.0") == "curves-plain-name_1.0"


def test_a_run_of_a_spec_named_with_spaces_and_umlauts_logs_its_artifacts(
    folders: Settings,
) -> None:
    spec = "Röntgen sweep"
    uploading = folders.model_copy(update={"upload_heads": True})
    run_tracked(_config("image"), uploading, mode="offline", device="cpu", group=spec)
    [run] = offline_runs(folders.wandb)
    assert run.group == spec
    ours = (schema.CURVES_ARTIFACT_TYPE, schema.HEADS_ARTIFACT_TYPE)
    names = {artifact.name for artifact in run.artifacts if artifact.type in ours}
    assert names == {schema.curves_artifact_name(spec), schema.heads_artifact_name(spec)}
    assert all(name.isascii() and " " not in name for name in names)


class _Probe(RunObserver):
    """At the last-but-one epoch of the model, what W&B's own client holds of the run."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.seen: dict | None = None

    def epoch_finished(self, event: EpochEvent) -> None:
        if event.stage == "model" and event.epoch == self.epochs - 1:
            assert wandb.run is not None
            self.seen = dict(wandb.run.summary)  # W&B's service answers in order of the logs


def test_each_epoch_is_logged_as_it_finishes(folders: Settings) -> None:
    """Live curves: W&B holds the first epochs before the last one is trained."""
    probe = _Probe(epochs=4)
    config = _config("image", epochs=4)
    run_tracked(config, folders, device="cpu", hooks=RunHooks(observer=probe))
    assert probe.seen is not None
    # the probe comes before the W&B observer: it sees epochs 1-2 logged, then 3 and 4 train
    assert probe.seen[schema.STEP] == 2 and "auc/seed_1" in probe.seen
    [run] = offline_runs(folders.wandb)
    epochs = [row["epoch"] for row in run.history if "loss/mean" in row]
    assert epochs == [1, 2, 3, 4]  # logged once each: live, not replayed again at the end


TIME_DEPENDENT = {"created_at"}
"""Columns set from the clock. ``meta.seconds`` (the run's duration) is compared without its
value for the same reason; ``wandb_*`` (the W&B run a key links to) exist on the W&B path only."""
WANDB_LINK = {"wandb_run_id", "wandb_url", "wandb_sweep_id"}


def _rows(settings: Settings, table: str) -> list[tuple]:
    """Every row of ``table`` in the store's SQLite file, byte for byte, bar the columns above."""
    with closing(sqlite3.connect(default_store_path(settings))) as connection:
        cursor = connection.execute(f"SELECT * FROM {table}")
        names = [column[0] for column in cursor.description]
        rows = []
        for row in cursor.fetchall():
            values = dict(zip(names, row, strict=True))
            if "meta" in values:
                meta = json.loads(values["meta"])
                if "seconds" in meta:
                    meta["seconds"] = meta["seconds"] is not None
                values["meta"] = json.dumps(meta, sort_keys=True)
            rows.append(tuple(v for n, v in values.items() if n not in TIME_DEPENDENT | WANDB_LINK))
    return sorted(rows, key=repr)


def test_the_wandb_path_and_the_plain_path_store_the_same_rows(
    small_benchmark: SynthBenchmark, tmp_path: Path
) -> None:
    """One pipeline: W&B only observes it, so both paths record identical store rows."""
    data, cache = small_benchmark.directory.parent, tmp_path / "cache"
    plain = Settings(home=tmp_path / "plain", data_dir=data, cache_dir=cache)
    tracked = Settings(home=tmp_path / "tracked", data_dir=data, cache_dir=cache)
    config = _config("distill")  # its image-only baseline is trained and stored too
    run_configuration(config, plain, device="cpu")
    run_tracked(config, tracked, device="cpu", group="g")
    for table in ("runs", "seed_metrics", "curves"):
        ours, theirs = _rows(plain, table), _rows(tracked, table)
        assert ours and ours == theirs, table
    linked = ResultsStore(default_store_path(tracked)).runs()["wandb_run_id"]
    assert linked.notna().sum() == 1  # the distillation run; its baseline has no W&B run


def test_a_shared_teacher_is_logged_from_the_store_tagged_cached_teacher(
    folders: Settings,
) -> None:
    run_tracked(_config("distill", tau=0.5), folders, mode="offline", device="cpu", group="g")
    run_tracked(_config("distill", tau=2.0), folders, mode="offline", device="cpu", group="g")
    trained, taught = offline_runs(folders.wandb)
    assert schema.CACHED_TEACHER_TAG in taught.tags
    assert schema.CACHED_TEACHER_TAG not in trained.tags and schema.CACHED_TAG not in taught.tags
    assert taught.summary[schema.CACHED_TEACHER_TAG] is True

    def teacher_rows(run: OfflineRun) -> list[dict[str, object]]:
        rows = [row for row in run.history if "teacher/loss/mean" in row]
        return [{k: v for k, v in row.items() if k.startswith("teacher/")} for row in rows]

    assert len(teacher_rows(taught)) == 2
    assert teacher_rows(taught) == teacher_rows(trained)
