"""Task splits map onto feature-array rows, whatever the arrays' order and exclusions."""

import numpy as np

from radsweep.tasks.manifest import Manifest
from radsweep.tasks.splits import Scoring, make_split
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.training.task_inputs import task_rows


def test_rows_follow_the_array_order_and_skip_missing_samples(
    small_benchmark: SynthBenchmark,
) -> None:
    manifest: Manifest = small_benchmark.manifest("synth-prognostic")
    ids = manifest.frame["sample_id"].to_numpy()[::-1]  # the arrays' own order
    kept = np.delete(ids, [0, 5])  # two images excluded at extraction
    rows = task_rows(manifest, [0, 1], 0.5, list(kept))
    assert rows.missing == 2
    labels = manifest.frame.set_index("sample_id")["label"]
    np.testing.assert_array_equal(rows.labels.numpy(), labels.loc[kept].to_numpy())
    for split in rows.splits:
        expected = make_split(manifest, split.seed)
        train_ids = set(kept[split.train])
        assert train_ids == set(expected.training(0.5)) - {ids[0], ids[5]}
        assert set(kept[split.validation]) == set(expected.selection) - {ids[0], ids[5]}
        assert set(kept[split.test]) == set(expected.test) - {ids[0], ids[5]}
    assert not np.array_equal(rows.splits[0].train, rows.splits[1].train)
    scored = task_rows(manifest, [0], 0.5, list(kept), scoring=Scoring.VALIDATION)
    assert scored.splits[0].test is None
    assert set(kept[scored.splits[0].validation]) == set(make_split(manifest, 0).validation) - {
        ids[0],
        ids[5],
    }


def test_held_out_rows_are_patient_grouped_stratified_and_select_nothing(
    small_benchmark: SynthBenchmark,
) -> None:
    manifest = small_benchmark.manifest("synth-prognostic")
    frame = manifest.frame.set_index("sample_id")
    for seed in range(3):
        split = make_split(manifest, seed)
        selection, test = split.evaluation(Scoring.HELD_OUT)
        assert test is not None
        assert set(selection) | set(test) == set(split.validation)
        assert not set(selection) & set(test)
        assert not set(frame.loc[selection, "patient_id"]) & set(frame.loc[test, "patient_id"])
        for rows in (selection, test):  # both halves keep every class
            assert frame.loc[rows, "label"].nunique() == manifest.task.n_classes
        assert abs(len(test) - len(selection)) <= 0.3 * len(split.validation)


def test_unusable_rows_are_left_out(small_benchmark: SynthBenchmark) -> None:
    manifest = small_benchmark.manifest("synth-diagnostic")
    ids = manifest.frame["sample_id"].to_numpy()
    usable = np.ones(len(ids), bool)
    usable[:10] = False
    rows = task_rows(manifest, [0], 1.0, list(ids), usable)
    assert rows.missing == 10
    split = rows.splits[0]
    assert split.test is not None
    assert usable[split.train].all() and usable[split.validation].all() and usable[split.test].all()
    assert len(split.train) + len(split.validation) + len(split.test) == len(ids) - 10


def test_arrays_from_another_manifest_are_an_error(small_benchmark: SynthBenchmark) -> None:
    import pytest

    from radsweep.errors import TrainingError

    manifest = small_benchmark.manifest("synth-diagnostic")
    with pytest.raises(TrainingError, match="not in the task's manifest"):
        task_rows(manifest, [0], 1.0, ["not-a-sample"])
