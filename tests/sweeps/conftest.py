"""Fixtures of the sweep tests: an unreachable W&B server."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import wandb

INIT_TIMEOUT = 2


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Online W&B with an API key, pointed at a closed local port; W&B's settings read afresh."""
    server = f"http://127.0.0.1:{closed_port()}"
    netrc = tmp_path / "netrc"
    netrc.write_text("")
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("WANDB_BASE_URL", server)
    monkeypatch.setenv("WANDB_API_KEY", "a" * 40)
    monkeypatch.setenv("WANDB_INIT_TIMEOUT", str(INIT_TIMEOUT))
    monkeypatch.delenv("WANDB_MODE")
    wandb.teardown()  # W&B keeps the environment it first saw in a process-wide singleton
    yield server
    wandb.teardown()
