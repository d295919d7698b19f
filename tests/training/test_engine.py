"""The vectorized fit: equal to one seed at a time, deterministic, and checked inputs."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from radsweep.errors import TrainingError
from radsweep.training import HeadKind, Method, TrainConfig, fit, layers
from radsweep.training.engine import DeviceFeatures
from radsweep.training.layers import normalise_tokens
from tests.training.synthetic import seed_splits, token_features

torch.set_flush_denormal(True)


def _assert_same_curves(vectorized, one_at_a_time) -> None:
    for index, single in enumerate(one_at_a_time):
        for name in ("auc", "auprc", "loss"):
            np.testing.assert_allclose(
                getattr(vectorized.model, name)[index], getattr(single.model, name)[0], atol=2e-5
            )
        if single.teacher is not None:
            np.testing.assert_allclose(
                vectorized.teacher.loss[index], single.teacher.loss[0], atol=2e-5
            )


@pytest.mark.parametrize(
    ("method", "head"),
    [
        (Method.IMAGE, HeadKind.ATTENTION),
        (Method.DISTILL, HeadKind.ATTENTION),
        (Method.SELF_DISTILL, HeadKind.MEAN_LP),
        (Method.TEXT, HeadKind.ATTENTION),
        (Method.TEXT, HeadKind.MEAN_LP),
        (Method.IMAGE, HeadKind.CLS_LP),
    ],
)
def test_vectorized_equals_one_seed_at_a_time(method: Method, head: HeadKind) -> None:
    data = token_features()
    # Unequal training sizes: seeds finish their epochs after different numbers of steps.
    splits = seed_splits(data.samples, [0, 1, 2], train=[100, 70, 129], validation=60)
    config = TrainConfig(method=method, head=head, epochs=3, batch_size=32)
    vectorized = fit(data, splits, config, device="cpu")
    singles = [fit(data, [split], config, device="cpu") for split in splits]
    _assert_same_curves(vectorized, singles)
    assert vectorized.seeds == (0, 1, 2)


def test_seed_by_seed_attention_keeps_vectorized_equal_to_sequential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CPU's seed-by-seed attention (for large batches), forced on at tiny shapes."""
    monkeypatch.setattr(layers, "SEED_BY_SEED_FROM", 1)
    data = token_features()
    splits = seed_splits(data.samples, [0, 1, 2], train=[100, 70, 129], validation=60)
    config = TrainConfig(method=Method.DISTILL, epochs=2, batch_size=32)
    vectorized = fit(data, splits, config, device="cpu")
    _assert_same_curves(vectorized, [fit(data, [split], config, device="cpu") for split in splits])


def test_training_is_deterministic_and_seeds_differ() -> None:
    data = token_features()
    splits = seed_splits(data.samples, [0, 1], train=[120, 120], validation=60)
    config = TrainConfig(epochs=2, batch_size=32)
    first, second = fit(data, splits, config), fit(data, splits, config)
    np.testing.assert_array_equal(first.model.loss, second.model.loss)
    assert not np.allclose(first.model.loss[0], first.model.loss[1])


def test_models_learn_and_the_teacher_reads_the_report() -> None:
    data = token_features(samples=400)
    splits = seed_splits(data.samples, [0, 1], train=[240, 240], validation=120)
    image = fit(data, splits, TrainConfig(head=HeadKind.MEAN_LP, epochs=15))
    teacher = fit(data, splits, TrainConfig(method=Method.TEACHER, epochs=15, lr=1e-3))
    assert image.model.final_auc.min() > 0.75
    assert teacher.model.final_auc.min() > 0.95
    assert image.model.loss[:, -1].mean() < image.model.loss[:, 0].mean()


def test_distillation_reports_teacher_curves_and_best_epochs() -> None:
    data = token_features()
    splits = seed_splits(data.samples, [3, 4], train=[120, 120], validation=60)
    result = fit(data, splits, TrainConfig(method=Method.DISTILL, epochs=3, batch_size=32))
    assert result.teacher is not None and result.teacher.auc.shape == (2, 3)
    assert result.model.auc.shape == (2, 3)
    best = result.model.best_epoch
    np.testing.assert_array_equal(result.model.best_auc, result.model.auc[[0, 1], best])
    assert (result.model.best_auc >= result.model.final_auc).all()


@pytest.mark.parametrize("method", [Method.DISTILL, Method.SELF_DISTILL])
def test_a_teacher_trains_its_own_epochs(method: Method) -> None:
    data = token_features()
    splits = seed_splits(data.samples, [3], train=[120], validation=60)
    config = TrainConfig(method=method, epochs=2, teacher_epochs=4, batch_size=32)
    result = fit(data, splits, config)
    assert result.teacher is not None and result.teacher.auc.shape == (1, 4)
    assert result.model.auc.shape == (1, 2)


def test_multiclass_and_single_view_inputs() -> None:
    data = token_features(views=1, classes=4)
    splits = seed_splits(data.samples, [0], train=[150], validation=80)
    result = fit(data, splits, TrainConfig(epochs=2, batch_size=64))
    assert 0.0 <= result.model.final_auc[0] <= 1.0
    assert 0.0 <= result.model.final_auprc[0] <= 1.0


def test_missing_class_in_a_training_subset_is_an_error() -> None:
    data = token_features()
    splits = seed_splits(data.samples, [0], train=[100], validation=60)
    only_zeros = splits[0].train[data.labels.numpy()[splits[0].train] == 0]
    broken = [type(splits[0])(0, only_zeros, splits[0].validation)]
    with pytest.raises(TrainingError, match="has no sample of class 1"):
        fit(data, broken, TrainConfig(epochs=1))


def test_teacher_without_text_features_is_an_error() -> None:
    data = token_features()
    no_text = type(data)(labels=data.labels, classes=2, image=data.image)
    splits = seed_splits(data.samples, [0], train=[100], validation=60)
    for method in (Method.TEACHER, Method.DISTILL, Method.TEXT):
        with pytest.raises(TrainingError, match="no text features"):
            fit(no_text, splits, TrainConfig(method=method, epochs=1))


def test_overlapping_rows_and_repeated_seeds_are_errors() -> None:
    data = token_features()
    split = seed_splits(data.samples, [0], train=[100], validation=60)[0]
    overlapping = type(split)(0, split.train, split.train[:30])
    with pytest.raises(TrainingError, match="overlap"):
        fit(data, [overlapping], TrainConfig(epochs=1))
    with pytest.raises(TrainingError, match="seeds repeat"):
        fit(data, [split, split], TrainConfig(epochs=1))


def test_loaded_tokens_are_normalised_once_in_their_own_dtype() -> None:
    data = token_features(samples=40)
    config = TrainConfig(method=Method.TEACHER, epochs=1)
    features = DeviceFeatures.load(data, config, torch.device("cpu"), text=True)
    assert features.image is not None and features.text is not None
    assert (features.image.dtype, features.text.dtype) == (torch.float16, torch.float32)
    torch.testing.assert_close(features.image, normalise_tokens(data.image).half())
    torch.testing.assert_close(features.text, normalise_tokens(data.text))
    # A per-sample affine change of the frozen features changes nothing the heads see.
    shifted = replace(data, text=3.0 * data.text + 1.0)
    moved = DeviceFeatures.load(shifted, config, torch.device("cpu"), text=True)
    torch.testing.assert_close(moved.text, features.text, atol=1e-4, rtol=1e-4)


def test_batches_gather_each_seed_rows_at_their_views_as_float() -> None:
    data = token_features(samples=40)
    config = TrainConfig(method=Method.TEACHER, epochs=1)
    features = DeviceFeatures.load(data, config, torch.device("cpu"), text=True)
    rows = torch.tensor([[3, 1, 4], [1, 5, 9]])
    views = torch.tensor([[0, 2, 1], [1, 1, 0]])
    batch = features.batch(rows, views)
    assert features.image is not None and features.text is not None
    assert batch.image is not None and batch.text is not None
    assert (batch.image.dtype, batch.text.dtype) == (torch.float32, torch.float32)
    torch.testing.assert_close(batch.image, features.image[views, rows].float())
    torch.testing.assert_close(batch.text, features.text[rows])
    centre = features.batch(rows, 0).image
    assert centre is not None
    torch.testing.assert_close(centre, features.image[0, rows].float())
