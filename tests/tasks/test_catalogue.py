import math

import pytest

from radsweep.tasks.catalogue import AGE_BIN_EDGES, STUDY_TASKS, age_bin_names
from radsweep.tasks.spec import Averaging, FixedPoolSplit, RandomSplit, TaskKind

# The paper's Tables 2-6: (fraction, samples, epochs).
SEED_TABLES = {
    "mimic-5x1200": [
        (0.025, 100, 100),
        (0.05, 200, 100),
        (0.10, 400, 100),
        (0.25, 1000, 50),
        (0.50, 2000, 50),
        (1.0, 4000, 50),
    ],
    "age": [(0.01, 317, 150), (0.025, 792, 100), (0.05, 1585, 100), (0.10, 3171, 50)],
    "3-day-discharge": [
        (0.005, 82, 100),
        (0.01, 165, 100),
        (0.025, 416, 100),
        (0.05, 829, 50),
        (0.10, 1662, 50),
        (0.25, 4145, 50),
    ],
    "readmission": [
        (0.05, 211, 100),
        (0.10, 423, 100),
        (0.175, 741, 100),
        (0.25, 1059, 100),
        (0.50, 2119, 50),
    ],
    "12-month-ph": [
        (0.05, 204, 100),
        (0.10, 408, 100),
        (0.175, 715, 100),
        (0.25, 1022, 100),
        (0.50, 2044, 50),
    ],
}


def test_the_six_study_tasks_are_catalogued() -> None:
    assert set(STUDY_TASKS) == {*SEED_TABLES, "pe"}


@pytest.mark.parametrize("name", sorted(SEED_TABLES))
def test_sizes_and_epochs_match_the_seed_tables(name: str) -> None:
    sizes = STUDY_TASKS[name].sizes
    assert [(s.fraction, s.study_samples, s.epochs) for s in sizes] == SEED_TABLES[name]


def test_kinds_classes_and_splits() -> None:
    mimic = STUDY_TASKS["mimic-5x1200"]
    assert mimic.kind is TaskKind.DIAGNOSTIC and mimic.n_classes == 5
    assert isinstance(mimic.split, FixedPoolSplit) and mimic.averaging is Averaging.MICRO
    assert STUDY_TASKS["age"].kind is TaskKind.AUXILIARY and STUDY_TASKS["age"].n_classes == 5
    shares = {
        name: task.split.validation_share
        for name, task in STUDY_TASKS.items()
        if isinstance(task.split, RandomSplit)
    }
    assert shares == {
        "age": 0.10,
        "3-day-discharge": 0.10,
        "12-month-ph": 0.25,
        "readmission": 0.25,
        "pe": 0.25,
    }
    assert {name for name, task in STUDY_TASKS.items() if task.balanced} == {
        "12-month-ph",
        "readmission",
        "pe",
    }
    for name in ("3-day-discharge", "12-month-ph", "readmission", "pe"):
        assert STUDY_TASKS[name].averaging is Averaging.BINARY


def test_default_tau_is_2_5_only_for_mimic_5x1200() -> None:
    taus = {name: task.default_tau for name, task in STUDY_TASKS.items()}
    assert taus.pop("mimic-5x1200") == 2.5
    assert set(taus.values()) == {0.25}


def test_pe_follows_the_other_inspect_tasks() -> None:
    pe, readmission = STUDY_TASKS["pe"], STUDY_TASKS["readmission"]
    assert [(s.fraction, s.epochs) for s in pe.sizes] == [
        (s.fraction, s.epochs) for s in readmission.sizes
    ]


def test_table_counts_follow_from_the_fractions_of_the_training_pool() -> None:
    """Age: 90 % of 35,242 images; Readmission: 75 % of 5,651 (the paper's Appendix A.1)."""
    age_pool = 35_242 - math.ceil(0.10 * 35_242)
    for size in STUDY_TASKS["age"].sizes:
        assert math.floor(size.fraction * age_pool) == size.study_samples
    readmission_pool = 5_651 - math.ceil(0.25 * 5_651)
    for size in STUDY_TASKS["readmission"].sizes:
        assert math.floor(size.fraction * readmission_pool) == size.study_samples


def test_age_bin_names_cover_the_edges() -> None:
    assert age_bin_names((40, 60)) == ("<40", "40-59", ">=60")
    assert len(age_bin_names(AGE_BIN_EDGES)) == 5
