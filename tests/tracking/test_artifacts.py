"""``predict --artifact``: the heads a run uploaded come back through W&B's public ``Api`` and
score images as the store's copy does.

W&B cannot download an artifact offline, so the server's side is a stand-in at the client's
public boundary (``Api.artifact``, as ``tests/sweeps/wandb_server.py`` stands in for
``Api.sweep``): it serves the files the offline run staged for upload, as its artifact record
lists them.
"""

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import wandb
import wandb.apis.public
from wandb.sdk import wandb_login

from radsweep.errors import HeadError
from radsweep.predict import HeadSource, predict
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.agents import run_tracked
from radsweep.tracking import schema
from radsweep.tracking.artifacts import download_heads
from tests.conftest import closed_port
from tests.tracking.wandb_file import offline_runs

NAME = "me/radsweep/heads-g"


class ServedArtifact:
    """What the server holds of one logged artifact: its files, as the run staged them."""

    def __init__(self, record: Any) -> None:
        self.files = {entry.path: Path(entry.local_path) for entry in record.manifest.contents}

    def download(self, root: str) -> str:
        for name, staged in self.files.items():
            shutil.copyfile(staged, Path(root) / name)
        return root


@pytest.fixture
def uploaded(tiny_features: Settings, tmp_path: Path) -> tuple[Settings, str, ServedArtifact]:
    settings = tiny_features.model_copy(update={"home": tmp_path / "home", "upload_heads": True})
    config = RunConfig(
        task="synth-prognostic", backbone="c2l", fraction=1.0, seeds=(0, 1), epochs=2, tiny=True
    )
    outcome = run_tracked(config, settings, mode="offline", device="cpu", group="g")
    [run] = offline_runs(settings.wandb)
    [record] = [a for a in run.artifacts if a.type == schema.HEADS_ARTIFACT_TYPE]
    return settings, outcome.key, ServedArtifact(record)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """An online client (API key, no network) whose ``Api.artifact`` the test answers."""
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.setenv("WANDB_API_KEY", "a" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setattr(wandb_login, "_verify_login", lambda *_a, **_k: None)
    return []


def test_downloaded_heads_score_as_the_stores_copy(
    uploaded: tuple[Settings, str, ServedArtifact],
    server: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings, key, served = uploaded

    def artifact(_api: Any, name: str, type: str | None = None) -> ServedArtifact:
        server.append((name, str(type)))
        return served

    monkeypatch.setattr(wandb.apis.public.Api, "artifact", artifact)
    name = f"{NAME}:{key}"
    fetched = predict(
        HeadSource(artifact=name), settings, tmp_path / "a.csv", task="synth-prognostic"
    )
    stored = predict(HeadSource(run=key), settings, tmp_path / "s.csv", task="synth-prognostic")
    assert server == [(name, schema.HEADS_ARTIFACT_TYPE)]
    assert fetched.card == stored.card
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "s.csv"))


def test_a_missing_artifact_is_one_line(
    server: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def artifact(_api: Any, name: str, type: str | None = None) -> None:
        raise wandb.errors.CommError(f"artifact {name} not found\n in project")

    monkeypatch.setattr(wandb.apis.public.Api, "artifact", artifact)
    with pytest.raises(
        HeadError, match="cannot download artifact me/radsweep/heads-g:v9"
    ) as raised:
        download_heads(f"{NAME}:v9", tmp_path)
    assert "\n" not in raised.value.one_line()


def test_offline_w_and_b_says_so_at_once(tmp_path: Path) -> None:
    with pytest.raises(HeadError, match="WANDB_MODE=offline keeps W&B offline"):
        download_heads(f"{NAME}:v0", tmp_path)
