"""A τ/λ grid of students trained in one pass equals each student's own fit, seed by seed."""

import numpy as np
import pytest
import torch

from radsweep.errors import TrainingError
from radsweep.training import FitResult, Method, TrainConfig, fit
from radsweep.training.engine import EpochEvent
from radsweep.training.students import fit_students
from tests.training.synthetic import seed_splits, token_features

torch.set_flush_denormal(True)
ATOL = 2e-5  # the vectorized-vs-seed-by-seed tolerance (test_engine)


def _grid(method: Method) -> list[TrainConfig]:
    return [
        TrainConfig(method=method, epochs=3, batch_size=32, tau=tau, lam=lam)
        for tau in (0.5, 2.0)
        for lam in (0.3, 0.8)
    ]


def _assert_equal_fits(grouped: FitResult, alone: FitResult) -> None:
    assert grouped.config == alone.config and grouped.seeds == alone.seeds
    for name in ("auc", "auprc", "loss"):
        np.testing.assert_allclose(
            getattr(grouped.model, name), getattr(alone.model, name), atol=ATOL
        )
    assert grouped.teacher is not None and alone.teacher is not None
    for name in ("auc", "auprc", "loss"):
        np.testing.assert_allclose(
            getattr(grouped.teacher, name), getattr(alone.teacher, name), atol=ATOL
        )
    assert grouped.predictor is not None and alone.predictor is not None
    for name, tensor in alone.predictor.model.state_dict().items():
        torch.testing.assert_close(
            grouped.predictor.model.state_dict()[name], tensor, atol=1e-4, rtol=1e-4
        )


@pytest.mark.parametrize("method", [Method.DISTILL, Method.SELF_DISTILL])
def test_a_grid_in_one_pass_equals_each_students_own_fit(method: Method) -> None:
    """Report-aware and image-only teachers; 2 τ x 2 λ x 3 seeds of unequal sizes."""
    data = token_features()
    splits = seed_splits(data.samples, [0, 1, 2], train=[100, 70, 129], validation=60)
    configs = _grid(method)
    heard: list[list[EpochEvent]] = [[] for _ in configs]
    grouped = fit_students(data, splits, configs, device="cpu", progress=[h.append for h in heard])
    assert len(grouped) == len(configs)
    for config, result, events in zip(configs, grouped, heard, strict=True):
        alone_events: list[EpochEvent] = []
        alone = fit(data, splits, config, device="cpu", progress=alone_events.append)
        _assert_equal_fits(result, alone)
        assert [(e.stage, e.epoch) for e in events] == [(e.stage, e.epoch) for e in alone_events]
        for mine, theirs in zip(events, alone_events, strict=True):
            torch.testing.assert_close(mine.loss, theirs.loss, atol=ATOL, rtol=0)
    first = grouped[0].teacher_record
    assert first is not None and all(result.teacher_record is first for result in grouped)
    # what ran: the teacher's 3 seeds in one slice, the 4 students x 3 seeds members in one
    assert all(r.seed_chunks == {"teacher": (3,), "student": (12,)} for r in grouped)
    losses = [result.model.loss for result in grouped]
    assert not np.allclose(losses[0], losses[1]) and not np.allclose(losses[0], losses[2])


def test_a_stored_teacher_and_held_out_rows_teach_the_grid_as_they_teach_one_student() -> None:
    data = token_features()
    splits = []
    for split in seed_splits(data.samples, [3, 4, 5], train=[90, 80, 100], validation=80):
        half = len(split.validation) // 2
        splits.append(
            type(split)(split.seed, split.train, split.validation[:half], split.validation[half:])
        )
    configs = _grid(Method.DISTILL)
    record = fit(data, splits, configs[0], device="cpu").teacher_record
    grouped = fit_students(data, splits, configs, device="cpu", teacher=record)
    assert grouped[0].seed_chunks == {"student": (12,)}  # the stored teacher trained no stage
    for config, result in zip(configs, grouped, strict=True):
        alone = fit(data, splits, config, device="cpu", teacher=record)
        _assert_equal_fits(result, alone)
        assert result.selection is not None and alone.selection is not None
        np.testing.assert_array_equal(result.model.selected, alone.model.selected)
        np.testing.assert_allclose(result.selection.auc, alone.selection.auc, atol=ATOL)


def test_configurations_that_differ_in_more_than_tau_and_lambda_are_refused() -> None:
    data = token_features()
    splits = seed_splits(data.samples, [0], train=[100], validation=60)
    base = TrainConfig(method=Method.DISTILL, epochs=1)
    with pytest.raises(TrainingError, match="only in τ and λ"):
        fit_students(data, splits, [base, base.model_copy(update={"epochs": 2})])
    with pytest.raises(TrainingError, match="no teacher"):
        fit_students(data, splits, [TrainConfig(epochs=1)])
