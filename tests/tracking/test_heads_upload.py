"""Head upload is opt-in: a run's heads reach W&B's folders only when asked, as the store keeps
them (``heads.safetensors`` and its ``head.json`` card)."""

import os
from pathlib import Path

import pytest

from radsweep.results.store import default_store_path
from radsweep.runs.config import RunConfig
from radsweep.runs.heads import CARD_FILE, HEADS_FILE, heads_folder, read_card
from radsweep.settings import Settings
from radsweep.sweeps.agents import run_tracked
from radsweep.tracking import schema
from tests.tracking.wandb_file import offline_runs


@pytest.fixture
def folders(tiny_features: Settings, tmp_path: Path) -> Settings:
    return tiny_features.model_copy(update={"home": tmp_path / "home"})


def _config() -> RunConfig:
    return RunConfig(
        task="synth-prognostic", backbone="c2l", fraction=1.0, seeds=(0, 1), epochs=2, tiny=True
    )


def _wandb_files(folders: Settings) -> list[Path]:
    roots = [folders.wandb, *(Path(os.environ[n]) for n in ("WANDB_DATA_DIR", "WANDB_DIR"))]
    return [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]


def _holding(files: list[Path], content: bytes) -> list[Path]:
    return [path for path in files if path.read_bytes() == content]


def test_by_default_the_store_keeps_the_heads_and_nothing_of_them_goes_to_wandb(
    folders: Settings,
) -> None:
    outcome = run_tracked(_config(), folders, mode="offline", device="cpu", group="g")
    kept = heads_folder(default_store_path(folders), outcome.key)
    card = read_card(kept)
    assert card.run_key == outcome.key and card.seeds == (0, 1)
    [run] = offline_runs(folders.wandb)
    assert not [a for a in run.artifacts if a.type == schema.HEADS_ARTIFACT_TYPE]
    files = _wandb_files(folders)
    assert files  # the offline run itself is there
    for name in (HEADS_FILE, CARD_FILE):
        assert not _holding(files, (kept / name).read_bytes()), name


def test_asked_to_upload_the_run_logs_the_heads_and_their_card(folders: Settings) -> None:
    uploading = folders.model_copy(update={"upload_heads": True})
    outcome = run_tracked(_config(), uploading, mode="offline", device="cpu", group="g")
    again = run_tracked(_config(), uploading, mode="offline", device="cpu", group="g")
    assert again.skipped
    kept = heads_folder(default_store_path(folders), outcome.key)
    for run in offline_runs(folders.wandb):  # the replay uploads the heads the store kept
        [heads] = [a for a in run.artifacts if a.type == schema.HEADS_ARTIFACT_TYPE]
        assert heads.name == "heads-g" and outcome.key in heads.aliases
    files = _wandb_files(folders)
    for name in (HEADS_FILE, CARD_FILE):
        assert _holding(files, (kept / name).read_bytes()), name
