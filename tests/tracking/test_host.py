"""The W&B server radsweep names is the one W&B's client uses: the environment, then the host
``wandb login --host`` saved, then the public server."""

import pytest

from radsweep.tracking.host import DEFAULT_SERVER, settings_file, wandb_server


def test_the_saved_host_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANDB_BASE_URL", raising=False)
    assert wandb_server() == DEFAULT_SERVER
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text("[default]\nbase_url = https://wandb.example.org/\n")
    assert wandb_server() == "https://wandb.example.org"
    monkeypatch.setenv("WANDB_BASE_URL", "http://localhost:8080")
    assert wandb_server() == "http://localhost:8080"


def test_a_damaged_settings_file_is_not_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANDB_BASE_URL", raising=False)
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text("base_url = no section\n")
    assert wandb_server() == DEFAULT_SERVER
