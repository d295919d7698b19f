"""``radsweep sync``: offline runs uploaded by W&B's own sync to a stand-in server, then given
their feature-cache lineage; the store records their URLs. W&B's client code runs unmodified:
only the server is a stand-in (``tests.tracking.wandb_api``)."""

import json

import pandas as pd
import pytest

from radsweep.cli.main import cli
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.settings import Settings
from radsweep.tracking import schema
from radsweep.tracking.folders import folder_run_id, offline_folders
from tests.tracking.spec_runs import (  # noqa: F401 (fixtures)
    SpecRuns,
    server_fixture,
    spec_runs_fixture,
    trained_spec_fixture,
)
from tests.tracking.wandb_api import ENTITY, WandbApi

pytestmark = pytest.mark.slow


def _sync(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli(["--home", str(settings.home), "--data-dir", str(settings.data), "sync"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _stored(settings: Settings) -> pd.DataFrame:
    return ResultsStore(default_store_path(settings)).runs()


def test_sync_uploads_offline_runs_attaches_lineage_and_stores_urls(
    spec_runs: SpecRuns, server: WandbApi, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = spec_runs.settings
    offline = {folder_run_id(folder) for folder in offline_folders(settings.wandb)}
    stored = _stored(settings)
    trained = stored.dropna(subset=["wandb_run_id"])
    assert len(trained) == 3 and trained["wandb_url"].isna().all()  # offline: no URL yet

    code, out = _sync(settings, capsys)

    assert code == 0, out
    assert server.saved.unknown == []
    assert {run for _, run in server.saved.runs} == offline  # W&B's sync uploaded every run
    urls = _stored(settings).dropna(subset=["wandb_run_id"]).set_index("wandb_run_id")
    for run_id, row in urls.iterrows():
        assert row["wandb_url"] == f"{server.url}/{ENTITY}/radsweep/runs/{run_id}"
        declared = {
            used["artifact"]["name"]
            for used in server.saved.used
            if used["runName"] == run_id and used["artifact"]["type"] == "feature-cache"
        }
        caches = json.loads(row["cache_keys"])
        assert declared == {schema.features_artifact_name(key) for key in caches}
    assert "lineage attached to 3" in out


def test_a_second_sync_does_nothing_and_says_so(
    spec_runs: SpecRuns, server: WandbApi, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = spec_runs.settings
    assert _sync(settings, capsys)[0] == 0
    calls = list(server.saved.operations)

    code, out = _sync(settings, capsys)

    assert code == 0
    assert "nothing to sync" in out
    assert server.saved.operations == calls  # not one request


def test_sync_without_a_server_is_one_line(
    spec_runs: SpecRuns, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _sync(spec_runs.settings, capsys)  # WANDB_MODE=offline (conftest)
    assert code == 2
    assert out.strip().count("\n") == 0 and "WANDB_API_KEY" in out
    assert all(
        not (f / "radsweep-lineage.json").exists()
        for f in offline_folders(spec_runs.settings.wandb)
    )
