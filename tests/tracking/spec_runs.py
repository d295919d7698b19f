"""Fixtures: a small spec's runs, logged offline by the real writer into a radsweep home (what
``radsweep sync`` uploads and ``radsweep dashboard`` draws), and the W&B server stand-in. The
runs train once per session; each test copies the home, so one test's upload leaves the next
test's runs offline."""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import wandb

from radsweep.runs.execute import prepare
from radsweep.settings import Settings
from radsweep.sweeps.agents import run_tracked
from radsweep.sweeps.spec import load_and_expand
from radsweep.tasks.synthetic import SynthBenchmark
from tests.tracking.wandb_api import API_KEY, WandbApi, serving

SPEC = """\
name: wb-app
method: grid
metric: {name: auc/final/mean, goal: maximize}
program: radsweep
command: ["${env}", radsweep, sweep, run-config, --spec, wb-app, "${args_json}"]
parameters:
  task: {value: synth-prognostic}
  method: {values: [image, distill, self-distill]}
  head: {value: attention}
  backbone: {value: pixel-patches}
  fraction: {value: 0.5}
  text_encoder: {value: minilm-sentences}
  max_length: {value: 64}
  epochs: {value: 2}
  lr: {value: 0.001}
  seeds: {value: [0, 1, 2]}
"""


@dataclass(frozen=True)
class SpecRuns:
    """A radsweep home holding the spec's stored runs and their offline W&B folders."""

    spec: Path
    settings: Settings


@pytest.fixture(scope="session", name="trained_spec")
def trained_spec_fixture(
    small_benchmark: SynthBenchmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SpecRuns]:
    folder = tmp_path_factory.mktemp("spec-runs")
    spec = folder / "wb-app.yaml"
    spec.write_text(SPEC)
    settings = Settings(home=folder / "home", data_dir=small_benchmark.directory.parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WANDB_MODE", "offline")
        for name in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR"):
            patch.setenv(name, str(folder / name.lower()))
        loaded, configs = load_and_expand(spec, settings.data)
        for config in configs:  # features first, before any W&B run is open
            prepare(config, settings, device="cpu")
        for config in configs:
            run_tracked(config, settings, mode="offline", device="cpu", group=loaded.name)
    yield SpecRuns(spec, settings)


@pytest.fixture(name="spec_runs")
def spec_runs_fixture(trained_spec: SpecRuns, tmp_path: Path) -> SpecRuns:
    """The trained home, copied for one test."""
    home = tmp_path / "spec-home"
    shutil.copytree(trained_spec.settings.home, home)
    spec = tmp_path / trained_spec.spec.name
    shutil.copy(trained_spec.spec, spec)
    return SpecRuns(spec, trained_spec.settings.model_copy(update={"home": home}))


@pytest.fixture(name="server")
def server_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[WandbApi]:
    """The stand-in, as the W&B server every W&B client in and under this test talks to."""
    with serving() as api:
        monkeypatch.delenv("WANDB_MODE", raising=False)
        monkeypatch.setenv("WANDB_BASE_URL", api.url)
        monkeypatch.setenv("WANDB_API_KEY", API_KEY)
        wandb.teardown()  # W&B's settings singleton re-reads the environment, as a new process
        yield api
        wandb.teardown()
