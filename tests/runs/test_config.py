"""RunConfig: validation, resolution against the task, canonical form and run keys."""

import pytest
from pydantic import ValidationError

from radsweep.runs.config import RunConfig, run_key
from radsweep.tasks.catalogue import STUDY_TASKS

READMISSION = STUDY_TASKS["readmission"]


def test_resolution_fills_defaults_and_nulls_what_the_method_ignores() -> None:
    image = RunConfig(task="readmission", backbone="c2l", fraction=0.05, tau=4.0, lam=0.9)
    resolved = image.resolve(READMISSION)
    assert resolved.epochs == READMISSION.size(0.05).epochs
    assert resolved.lr == 1e-4
    assert resolved.tau is None and resolved.lam is None and resolved.text_encoder is None
    same = RunConfig(task="readmission", backbone="c2l", fraction=0.05, tau=0.1)
    assert same.resolve(READMISSION).canonical() == resolved.canonical()


def test_distillation_keeps_its_temperature_and_weight() -> None:
    config = RunConfig(task="readmission", backbone="c2l", method="distill", fraction=0.05)
    resolved = config.resolve(READMISSION)
    assert (resolved.tau, resolved.lam) == (READMISSION.default_tau, 0.5)
    assert resolved.text_encoder == "biovil-t"
    linear = config.model_copy(update={"head": "mean-lp"}).resolve(READMISSION)
    assert linear.lr == 1e-3


def test_text_only_runs_need_no_backbone() -> None:
    resolved = RunConfig(task="readmission", method="text", fraction=0.05).resolve(READMISSION)
    assert resolved.backbone is None and resolved.text_encoder == "biovil-t"
    with pytest.raises(ValidationError, match="needs a backbone"):
        RunConfig(task="readmission", method="image", fraction=0.05)


@pytest.mark.parametrize(
    "bad",
    [
        {"fraction": 1.5},
        {"fraction": 0.0},
        {"lam": 1.2},
        {"lam": -0.1},
        {"tau": 0.0},
        {"seeds": (1, 1)},
        {"unknown": 3},
    ],
)
def test_invalid_values_are_rejected(bad: dict[str, object]) -> None:
    base = {"task": "readmission", "backbone": "c2l", "fraction": 0.05}
    with pytest.raises(ValidationError):
        RunConfig.model_validate({**base, **bad})


def test_run_key_depends_on_config_and_caches_only() -> None:
    config = RunConfig(task="readmission", backbone="c2l", fraction=0.05, seeds=(2, 0, 1))
    assert config.seeds == (0, 1, 2)
    resolved = config.resolve(READMISSION)
    assert run_key(resolved, ["a", "b"]) == run_key(resolved, ["b", "a"])
    assert run_key(resolved, ["a"]) != run_key(resolved, ["c"])
    other = resolved.model_copy(update={"fraction": 0.1})
    assert run_key(other, ["a"]) != run_key(resolved, ["a"])
