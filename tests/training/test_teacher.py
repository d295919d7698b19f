"""A stored teacher stands in for training it: the student learns exactly the same."""

import numpy as np
import pytest
import torch

from radsweep.errors import TrainingError
from radsweep.training import FitResult, Method, SeedSplit, TrainConfig, fit
from radsweep.training.engine import EpochEvent
from radsweep.training.teacher import TeacherRecord
from tests.training.synthetic import seed_splits, token_features

torch.set_flush_denormal(True)


def _held_out_splits(samples: int) -> list[SeedSplit]:
    """Two seeds on scattered rows (so the fit compacts them), each with test rows."""
    splits = []
    for seed, size in ((3, 70), (5, 90)):
        order = np.random.default_rng(seed).permutation(samples)
        train, validation, test = order[:size], order[size : size + 50], order[size + 50 : 200]
        splits.append(SeedSplit(seed, np.sort(train), np.sort(validation), np.sort(test)))
    return splits


def _fit(method: Method, tau: float, teacher: TeacherRecord | None = None):
    data = token_features(samples=240)
    events: list[EpochEvent] = []
    config = TrainConfig(method=method, epochs=3, batch_size=32, tau=tau, lam=0.7)
    splits = _held_out_splits(data.samples)
    result = fit(data, splits, config, progress=events.append, teacher=teacher)
    return result, events


def _assert_identical(first: FitResult, second: FitResult) -> None:
    for name in ("model", "teacher", "selection"):
        for curve in ("auc", "auprc", "loss", "selected"):
            np.testing.assert_array_equal(
                getattr(getattr(first, name), curve), getattr(getattr(second, name), curve)
            )
    assert first.predictor is not None and second.predictor is not None
    trained, taught = first.predictor.model.state_dict(), second.predictor.model.state_dict()
    for name, tensor in trained.items():
        assert torch.equal(tensor, taught[name]), name


@pytest.mark.parametrize("method", [Method.DISTILL, Method.SELF_DISTILL])
def test_a_stored_teacher_teaches_exactly_what_training_it_does(method: Method) -> None:
    trained, live = _fit(method, tau=0.5)
    record = trained.teacher_record
    assert record is not None and record.seeds == (3, 5) and record.views == (1, 2)
    assert [rows.size for rows in record.rows] == [70, 90]
    stored = TeacherRecord.from_bytes(record.to_bytes())
    taught, replayed = _fit(method, tau=0.5, teacher=stored)
    _assert_identical(trained, taught)
    assert taught.teacher_record is stored
    teacher_live = [event for event in live if event.stage == "teacher"]
    teacher_replayed = [event for event in replayed if event.stage == "teacher"]
    assert len(teacher_live) == len(teacher_replayed) == 3
    for now, then in zip(teacher_live, teacher_replayed, strict=True):
        assert not now.cached and then.cached and now.epoch == then.epoch
        for metric in ("loss", "auc", "auprc"):
            assert getattr(now, metric).tolist() == getattr(then, metric).tolist()
    students = [event for event in replayed if event.stage == "student"]
    assert len(students) == 3 and not any(event.cached for event in students)


def test_one_teacher_serves_every_temperature() -> None:
    """Logits are stored, not tempered probabilities: a τ=0.5 record teaches a τ=2 student
    exactly as the τ=2 run's own teacher does."""
    record = _fit(Method.DISTILL, tau=0.5)[0].teacher_record
    assert record is not None
    own, _ = _fit(Method.DISTILL, tau=2.0)
    shared, _ = _fit(Method.DISTILL, tau=2.0, teacher=record)
    _assert_identical(own, shared)
    other, _ = _fit(Method.DISTILL, tau=0.5, teacher=record)
    assert not np.array_equal(other.model.loss, shared.model.loss)


def test_a_record_of_other_seeds_or_rows_is_refused() -> None:
    data = token_features(samples=240)
    config = TrainConfig(method=Method.DISTILL, epochs=1, batch_size=32)
    splits = seed_splits(data.samples, [0, 1], train=[80, 80], validation=60)
    record = fit(data, splits, config).teacher_record
    assert record is not None
    other_seeds = seed_splits(data.samples, [0, 2], train=[80, 80], validation=60)
    with pytest.raises(TrainingError, match="not this run's"):
        fit(data, other_seeds, config, teacher=record)
    fewer_rows = [SeedSplit(s.seed, s.train[:-1], s.validation) for s in splits]
    with pytest.raises(TrainingError, match="other rows"):
        fit(data, fewer_rows, config, teacher=record)
