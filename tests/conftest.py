"""Shared fixtures: an isolated radsweep home and W&B folders per test, small synthetic data,
an unreachable W&B server."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import wandb

from radsweep.settings import Settings
from radsweep.tasks.synthetic import SynthBenchmark, SynthConfig, synthesize


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own RADSWEEP_HOME and offline W&B folders: nothing touches ``~``."""
    home = tmp_path / "radsweep-home"
    monkeypatch.setenv("RADSWEEP_HOME", str(home))
    for name in ("DATA_DIR", "CACHE_DIR", "RESULTS_DIR", "WANDB_DIR"):
        monkeypatch.delenv(f"RADSWEEP_{name}", raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    for name in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    return home


@pytest.fixture(scope="session")
def small_benchmark(tmp_path_factory: pytest.TempPathFactory) -> SynthBenchmark:
    """A 400-sample synthetic benchmark, built once per test session (read-only for tests)."""
    folder = tmp_path_factory.mktemp("synthetic") / "benchmark"
    return synthesize(SynthConfig(samples=400, seed=7), folder)


@pytest.fixture(scope="session")
def tiny_features(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A 120-sample synthetic benchmark with the tiny C2L features of ``synth-prognostic``
    extracted once per session, so real runs start training at once. Read-only: a test takes
    its own results and W&B folders with ``tiny_features.model_copy(update={"home": ...})``."""
    import torch

    from radsweep.runs.config import RunConfig
    from radsweep.runs.execute import prepare

    torch.set_flush_denormal(True)
    folder = tmp_path_factory.mktemp("tiny-features")
    synthesize(SynthConfig(samples=120, seed=7), folder / "data" / "benchmark")
    settings = Settings(home=folder / "home", data_dir=folder / "data", cache_dir=folder / "cache")
    config = RunConfig(task="synth-prognostic", backbone="c2l", fraction=1.0, tiny=True)
    prepare(config, settings, device="cpu")
    return settings


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


@pytest.fixture(scope="session")
def c2l_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real C2L-layout checkpoint (full-size ResNet-18, random weights), written once per
    session and laid out as C2L's training script saves it: ``{model: {encoder.module.*}}``."""
    import torch
    import torchvision

    torch.manual_seed(3)
    net = torchvision.models.resnet18()
    state = {f"encoder.module.{key}": value for key, value in net.state_dict().items()}
    path = tmp_path_factory.mktemp("release") / "c2l_res18.pth"
    torch.save({"model": state, "epoch": 200}, path)
    return path
