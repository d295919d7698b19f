"""A spec's ``upload_heads: true`` reaches every agent's run: W&B gets it as a constant parameter
(its schema has no such key), and the run uploads its heads; without it, nothing of them."""

import subprocess
from pathlib import Path

import pytest
import yaml

from radsweep.errors import SweepError
from radsweep.settings import Settings
from radsweep.sweeps.agents import sweep_parameters, uploading
from radsweep.sweeps.spec import load_spec
from radsweep.tracking import schema
from tests.sweeps.test_agents import PARAMETERS, _agent
from tests.tracking.wandb_file import offline_runs

GRID = "method: grid\nparameters:\n  task: {value: synth-age}\n  backbone: {value: c2l}\n"


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return path


def test_the_spec_key_travels_to_wandb_as_a_constant_parameter(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, "upload_heads: true\n" + GRID))
    assert spec.upload_heads
    sent = spec.wandb_config()
    assert "upload_heads" not in {key for key in sent if key != "parameters"}
    assert sent["parameters"]["upload_heads"] == {"value": True}
    assert "upload_heads" not in spec.parameters  # the local grid does not vary it
    plain = load_spec(_spec(tmp_path, GRID))
    assert not plain.upload_heads and plain.wandb_config() == plain.config


def test_a_spec_key_that_is_not_a_boolean_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="upload_heads must be true or false"):
        load_spec(_spec(tmp_path, "upload_heads: sometimes\n" + GRID))


def test_the_parameter_turns_upload_on_and_is_no_run_config_field() -> None:
    values = {**PARAMETERS, "upload_heads": True}
    assert sweep_parameters(values) == sweep_parameters(PARAMETERS)  # same run, same key
    assert uploading(Settings(), values).upload_heads
    assert not uploading(Settings(), PARAMETERS).upload_heads


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["radsweep-agent", "stock-agent"])
def test_each_agents_run_uploads_its_heads_when_the_sweep_asks(
    kind: str, tiny_features: Settings, tmp_path: Path
) -> None:
    """(Without the key nothing is uploaded: tests/tracking/test_heads_upload.py.)"""
    home = tiny_features.model_copy(update={"home": tmp_path / "home"})
    spec = load_spec(_spec(tmp_path, yaml.safe_dump({"upload_heads": True}) + GRID))
    sent = spec.wandb_config()["parameters"]["upload_heads"]["value"]
    parameters = {**PARAMETERS, "epochs": 2, "upload_heads": sent}
    with _agent(kind, home, tmp_path, parameters) as agent:
        try:
            _, errors = agent.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            pytest.fail("the agent did not finish its run")
    assert agent.returncode == 0, errors
    [run] = offline_runs(home.wandb)
    [heads] = [a for a in run.artifacts if a.type == schema.HEADS_ARTIFACT_TYPE]
    assert heads.name == "heads-mini"


def test_sweep_local_uploads_the_heads_of_a_spec_that_asks(
    tiny_features: Settings, tmp_path: Path
) -> None:
    from radsweep.cli.main import cli

    home = tmp_path / "home"
    spec = _spec(
        tmp_path,
        "upload_heads: true\nmethod: grid\nparameters:\n  task: {value: synth-prognostic}\n"
        "  backbone: {value: c2l}\n  tiny: {value: true}\n  fraction: {value: 1.0}\n"
        "  epochs: {value: 2}\n  seeds: {value: [0, 1]}\n",
    )
    folders = ["--home", home, "--data-dir", tiny_features.data, "--cache-dir", tiny_features.cache]
    assert cli([str(arg) for arg in [*folders, "sweep", "local", spec, "--device", "cpu"]]) == 0
    [run] = offline_runs(Settings(home=home).wandb)
    [heads] = [a for a in run.artifacts if a.type == schema.HEADS_ARTIFACT_TYPE]
    assert heads.name == "heads-mine"
