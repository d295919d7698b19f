"""Run names: every setting a user's spec may sweep tells runs apart, in 128 characters."""

import pytest

from radsweep.runs.config import RunConfig
from radsweep.tracking import schema

BASE = {
    "task": "readmission",
    "backbone": "rad-dino",
    "method": "distill",
    "fraction": 0.05,
    "tau": 0.25,
    "lam": 0.5,
    "epochs": 150,
    "lr": 1e-4,
}
VARIED = [
    {},
    {"lr": 1e-3},
    {"epochs": 20},
    {"views": 8},
    {"views": 8, "view_seed": 1},
    {"seeds": (0, 1, 2)},
    {"seeds": tuple(range(10))},
    {"seeds": (5, 6, 7, 8, 9)},
    {"batch_size": 32},
    {"max_length": 64},
    {"pool": 2},
    {"scoring": "validation"},
    {"weights": "/models/rad-dino-finetuned.safetensors"},
    {"text_weights": "/models/bert.safetensors"},
]


def test_configs_differing_in_one_swept_setting_have_different_names() -> None:
    names = [schema.run_name(RunConfig(**{**BASE, **change})) for change in VARIED]
    assert len(set(names)) == len(VARIED), names
    assert names == [schema.run_name(RunConfig(**{**BASE, **change})) for change in VARIED]


def test_two_benchmarks_sharing_a_task_name_get_different_names() -> None:
    config = RunConfig(**BASE)
    first, second = (schema.run_name(config, digest) for digest in ("a1b2c3d4e5f6", "0f9e8d7c6b5a"))
    assert first != second and first.endswith("-da1b2c3")
    assert schema.run_name(config) not in (first, second)


@pytest.mark.parametrize("seeds", [tuple(range(0, 200, 2)), (1, 3)])
def test_names_stay_within_wandbs_limit_and_apart(seeds: tuple[int, ...]) -> None:
    long = {
        **BASE,
        "task": "a-user-task-with-a-very-long-descriptive-name-for-its-cohort",
        "text_encoder": "a-text-encoder-with-a-long-name",
        "weights": "w",
        "text_weights": "t",
        "views": 16,
        "view_seed": 3,
        "max_length": 512,
        "batch_size": 16,
        "seeds": seeds,
    }
    names = {schema.run_name(RunConfig(**{**long, "lr": lr}), "abcdef") for lr in (1e-4, 2e-4)}
    assert len(names) == 2 and all(len(name) <= schema.RUN_NAME_LENGTH for name in names)
