"""Shared fixtures: an isolated radsweep home and W&B folders per test, small synthetic data,
an unreachable W&B server."""

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import wandb

from radsweep.settings import Settings
from radsweep.tasks.synthetic import SynthBenchmark, SynthConfig, synthesize

CI_HOME = os.environ.get("RADSWEEP_HOME")  # read before any test isolates its own home
DEMO_TIMEOUT = 3600  # a first demo on a loaded 2-core runner; reused, it takes seconds


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--power",
        action="store_true",
        help="also run the benchmark's five-draw power gate (tests marked power, ~30 minutes)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the power gate out (deselected, and counted so) unless ``--power`` asks for it:
    it trains five benchmark draws, longer than the whole rest of the suite."""
    if config.getoption("--power"):
        return
    gate = [item for item in items if item.get_closest_marker("power")]
    if gate:
        config.hook.pytest_deselected(items=gate)
        items[:] = [item for item in items if not item.get_closest_marker("power")]


@pytest.fixture(autouse=True)
def no_wall_clock_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped progress prints a line every 30 s of wall time; on a loaded machine that would put
    a progress line beside the one-line errors tests read. Tests drive the heartbeat with a fake
    clock instead (tests/cli/test_progress.py)."""
    from radsweep.cli import context

    monkeypatch.setattr(context, "HEARTBEAT_SECONDS", threading.TIMEOUT_MAX)


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


@pytest.fixture(scope="session")
def grid_alone(
    small_benchmark: SynthBenchmark, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[np.ndarray]]:
    """The stored numbers (``tests.runs.grid.stored_numbers``) by run key of each run of the runs
    tests' grid and its image-only control, each run alone into one store, once per session:
    what a grouped pass must reproduce."""
    from radsweep.results.store import ResultsStore
    from radsweep.runs.execute import run_configuration
    from tests.runs.grid import grid, image_only, stored_numbers

    home = tmp_path_factory.mktemp("grid-alone")
    settings = Settings(home=home, data_dir=small_benchmark.directory.parent)
    store = ResultsStore(home / "alone.sqlite")
    keys = [
        run_configuration(config, settings, device="cpu", store=store).key
        for config in [*grid(), image_only()]
    ]
    return {key: stored_numbers(store, key) for key in keys}


@dataclass(frozen=True)
class DemoHome:
    """A radsweep home holding a finished ``radsweep demo`` (default size, default report folder).

    Read-only for tests: a test that runs the demo again there must reuse everything."""

    home: Path
    report: Path  # RESULTS/demo-report
    first_output: str | None  # what the demo printed when this session built it; None: reused


def finished_demo(home: Path) -> bool:
    report = Settings(home=home).results / "demo-report"
    return (report / "report.html").is_file() and (report / "runs.json").is_file()


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> DemoHome:
    """The demo, run once per session: the home CI's set-up already filled (``.ci/run`` runs
    ``radsweep demo`` with RADSWEEP_HOME exported) when it holds a finished demo, else a fresh one
    built here in a subprocess with offline W&B folders of its own."""
    if CI_HOME and finished_demo(Path(CI_HOME)):
        home = Path(CI_HOME)
        return DemoHome(home, Settings(home=home).results / "demo-report", None)
    root = tmp_path_factory.mktemp("demo")
    home = root / "home"
    env = os.environ | {"RADSWEEP_HOME": str(home), "WANDB_MODE": "offline"}
    for name in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
        env[name] = str(root / name.lower())
    for name in ("DATA_DIR", "CACHE_DIR", "RESULTS_DIR", "WANDB_DIR"):
        env.pop(f"RADSWEEP_{name}", None)
    env.pop("WANDB_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "radsweep", "demo", "--workers", "2"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return DemoHome(home, Settings(home=home).results / "demo-report", done.stdout)


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
