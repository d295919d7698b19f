import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radsweep.errors import SplitError
from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.tasks.manifest import Manifest, TaskFile
from radsweep.tasks.spec import RandomSplit, TaskKind, TaskSpec, TrainingSize
from radsweep.tasks.splits import make_split, split_frame
from tests.tasks.fixtures import task_folder

FRACTIONS = (0.05, 0.1, 0.25, 0.5, 1.0)


def _task(n_classes: int, share: float) -> TaskSpec:
    return TaskSpec(
        name="prop-task",
        title="Property task",
        kind=TaskKind.PROGNOSTIC,
        classes=tuple(f"c{i}" for i in range(n_classes)),
        split=RandomSplit(validation_share=share),
        sizes=tuple(TrainingSize(fraction=f, epochs=1) for f in FRACTIONS),
    )


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[pd.DataFrame, TaskSpec]:
    n_classes = draw(st.integers(2, 5))
    n_patients = draw(st.integers(20, 120))
    sizes = draw(st.lists(st.integers(1, 4), min_size=n_patients, max_size=n_patients))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    patient = np.repeat(np.arange(n_patients), sizes)
    frame = pd.DataFrame(
        {
            "sample_id": [f"s{seed}-{i}" for i in range(len(patient))],
            "patient_id": [f"p{p}" for p in patient],
            "label": rng.integers(0, n_classes, size=len(patient)),
        }
    )
    return frame, _task(n_classes, draw(st.sampled_from([0.1, 0.25, 0.5])))


@settings(max_examples=80, deadline=None)
@given(cohort=cohorts(), seed=st.integers(0, 1000))
def test_no_patient_is_on_both_sides(cohort: tuple[pd.DataFrame, TaskSpec], seed: int) -> None:
    frame, task = cohort
    split = split_frame(frame, task, seed)
    patients = frame.set_index("sample_id")["patient_id"]
    validation = set(patients[split.validation])
    assert validation.isdisjoint(patients[split.training_order])
    assert len(split.validation) + len(split.training_order) == len(frame)


@settings(max_examples=80, deadline=None)
@given(cohort=cohorts(), seed=st.integers(0, 1000))
def test_training_subsets_are_nested(cohort: tuple[pd.DataFrame, TaskSpec], seed: int) -> None:
    frame, task = cohort
    split = split_frame(frame, task, seed)
    previous: set[str] = set()
    for fraction in FRACTIONS:
        if fraction * len(split.training_order) < 1:
            continue  # too small a pool for this fraction to hold a sample
        current = set(split.training(fraction))
        assert previous <= current
        previous = current
    assert previous == set(split.training_order)


@settings(max_examples=80, deadline=None)
@given(cohort=cohorts(), seed=st.integers(0, 1000), size=st.integers(1, 400))
def test_every_training_prefix_is_stratified(
    cohort: tuple[pd.DataFrame, TaskSpec], seed: int, size: int
) -> None:
    frame, task = cohort
    split = split_frame(frame, task, seed)
    pool = split.labels[split.training_order].to_numpy()
    size = min(size, len(pool))
    prefix = pool[:size]
    for label in range(task.n_classes):
        expected = size * np.mean(pool == label)
        assert abs(np.sum(prefix == label) - expected) <= 1 + task.n_classes / 2


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 1000), share=st.sampled_from([0.1, 0.25]))
def test_validation_keeps_class_proportions_for_single_image_patients(
    seed: int, share: float
) -> None:
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], [600, 300, 100])
    frame = pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(1000)],
            "patient_id": [f"p{i}" for i in range(1000)],
            "label": rng.permutation(labels),
        }
    )
    split = split_frame(frame, _task(3, share), seed)
    counts = split.class_counts(split.validation)
    assert counts == [round(600 * share), round(300 * share), round(100 * share)]


@settings(max_examples=40, deadline=None)
@given(cohort=cohorts(), seed=st.integers(0, 1000), shuffle=st.integers(0, 2**16))
def test_splits_ignore_row_order(
    cohort: tuple[pd.DataFrame, TaskSpec], seed: int, shuffle: int
) -> None:
    frame, task = cohort
    first = split_frame(frame, task, seed)
    second = split_frame(frame.sample(frac=1.0, random_state=shuffle), task, seed)
    np.testing.assert_array_equal(first.validation, second.validation)
    np.testing.assert_array_equal(first.training_order, second.training_order)


def test_seeds_differ_and_tasks_differ() -> None:
    frame = pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(300)],
            "patient_id": [f"p{i}" for i in range(300)],
            "label": np.arange(300) % 2,
        }
    )
    task = _task(2, 0.25)
    base = split_frame(frame, task, 0)
    assert not np.array_equal(base.validation, split_frame(frame, task, 1).validation)
    renamed = task.model_copy(update={"name": "other-task"})
    assert not np.array_equal(base.validation, split_frame(frame, renamed, 0).validation)


_PRINT_SPLIT = """
import numpy as np, pandas as pd
from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.tasks.splits import split_frame
frame = pd.DataFrame({"sample_id": [f"s{i}" for i in range(500)],
                      "patient_id": [f"p{i // 3}" for i in range(500)],
                      "label": np.arange(500) % 2})
split = split_frame(frame, STUDY_TASKS["readmission"], 3)
print(",".join(split.validation), ",".join(split.training(0.1)))
"""


def test_splits_are_identical_across_processes_and_hash_seeds() -> None:
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _PRINT_SPLIT],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
        ).stdout
        for hash_seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1


def test_training_sizes_follow_the_fraction_base(tmp_path: Path) -> None:
    folder, frame = task_folder(tmp_path, STUDY_TASKS["mimic-5x1200"], samples=100)
    manifest = Manifest.write(folder, frame, TaskFile(task=STUDY_TASKS["mimic-5x1200"]))
    split = make_split(manifest, 0)
    assert set(split.validation) == set(frame.loc[frame["pool"] == "eval", "sample_id"])
    # MIMIC 5x1200's fractions are of 4,000 samples (Table 2): 2.5 % is 100, more than this pool.
    with pytest.raises(SplitError, match="asks for 100 training samples"):
        split.training(0.025)
    own = _task(2, 0.25)
    split = split_frame(frame, own, 0)
    assert split.training_size(0.5) == len(split.training_order) // 2


def test_a_single_patient_cannot_be_split() -> None:
    frame = pd.DataFrame({"sample_id": ["a", "b"], "patient_id": ["p", "p"], "label": [0, 1]})
    with pytest.raises(SplitError, match="empty training or validation set"):
        split_frame(frame, _task(2, 0.25), 0)
