"""Training as a library: held-out prediction, a caller's teacher, validation schedule, and the
token-normalisation option with its guard for inputs of a few features."""

import textwrap
from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

import radsweep.training
from radsweep.errors import TrainingError
from radsweep.training import Method, SeedSplit, TrainConfig, TrainingData, fit
from radsweep.training.engine import derived_seed
from tests.training.synthetic import seed_splits, token_features

CONFIG = TrainConfig(epochs=3, batch_size=32, lr=1e-3)


def test_the_predictor_scores_held_out_rows_like_validation_does() -> None:
    data = token_features(samples=240, views=1)
    splits = seed_splits(data.samples, [0, 1], train=[100, 100], validation=60)
    result = fit(data, splits, CONFIG, device="cpu")
    assert result.predictor is not None
    for index, split in enumerate(splits):
        rows = split.validation
        scored = result.predictor.evaluate(
            data.labels[rows], accuracy=True, image=data.image[:, rows]
        )
        assert scored.auc[index] == pytest.approx(result.model.final_auc[index], abs=1e-5)
        positive = scored.probabilities[index, :, 1]
        labels = data.labels[rows].numpy()
        assert scored.auc[index] == pytest.approx(roc_auc_score(labels, positive), abs=1e-5)
        assert scored.auprc[index] == pytest.approx(
            average_precision_score(labels, positive), abs=1e-5
        )
        hits = (scored.probabilities[index].argmax(-1) == labels).mean()
        assert scored.accuracy is not None and scored.accuracy[index] == pytest.approx(hits)
    held_out = np.arange(200, 240)  # rows no seed trained or validated on
    probabilities = result.predictor.probabilities(image=data.image[:, held_out].numpy())
    assert probabilities.shape == (2, 40, 2)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)


def test_a_student_imitates_the_teacher_the_caller_supplies() -> None:
    data = token_features(samples=240, views=1)
    splits = seed_splits(data.samples, [0, 1], train=[160, 160], validation=60)
    flipped = torch.nn.functional.one_hot(1 - data.labels, 2).float()
    config = CONFIG.model_copy(update={"method": Method.DISTILL, "lam": 1.0, "epochs": 8})
    student = fit(
        replace(data, text=None, text_mask=None, teacher_probabilities=flipped),
        splits,
        config,
        device="cpu",
    )
    honest = fit(data, splits, CONFIG.model_copy(update={"epochs": 8}), device="cpu")
    assert student.teacher is None
    assert (student.model.final_auc < 0.4).all()  # it learned the caller's (inverted) targets
    assert (honest.model.final_auc > 0.6).all()


def test_a_caller_teacher_is_checked() -> None:
    data = token_features(samples=120, views=1)
    splits = seed_splits(data.samples, [0], train=[60], validation=40)
    wrong_shape = replace(data, teacher_probabilities=torch.full((120, 3), 1 / 3))
    with pytest.raises(TrainingError, match="do not match 120 samples x 2 classes"):
        fit(wrong_shape, splits, CONFIG.model_copy(update={"method": Method.DISTILL}))
    unnormalised = replace(data, teacher_probabilities=torch.ones(120, 2))
    with pytest.raises(TrainingError, match="sum to 1"):
        fit(unnormalised, splits, CONFIG.model_copy(update={"method": Method.DISTILL}))
    with pytest.raises(TrainingError, match="does not distil"):
        fit(replace(data, teacher_probabilities=torch.full((120, 2), 0.5)), splits, CONFIG)


def test_validation_every_k_epochs_and_on_a_subsample() -> None:
    data = token_features(samples=240, views=1)
    splits = seed_splits(data.samples, [0, 1], train=[100, 100], validation=120)
    every = CONFIG.model_copy(update={"epochs": 5, "validate_every": 2})
    curves = fit(data, splits, every, device="cpu").model
    assert np.isnan(curves.auc[:, [0, 2]]).all() and np.isfinite(curves.auc[:, [1, 3, 4]]).all()
    assert set(curves.best_epoch) <= {1, 3, 4}
    whole = fit(data, splits, CONFIG, device="cpu")
    same = fit(data, splits, CONFIG.model_copy(update={"validation_samples": 500}), device="cpu")
    np.testing.assert_array_equal(whole.model.auc, same.model.auc)  # 500 > 120: all rows
    sub = fit(data, splits, CONFIG.model_copy(update={"validation_samples": 30}), device="cpu")
    for index, split in enumerate(splits):
        rng = np.random.default_rng(derived_seed(split.seed, "validation-subset"))
        rows = np.sort(rng.choice(split.validation, 30, replace=False))
        scored = sub.predictor.evaluate(data.labels[rows], image=data.image[:, rows])
        assert scored.auc[index] == pytest.approx(sub.model.final_auc[index], abs=1e-5)


def _privileged(features: int) -> TrainingData:
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(120) % 2
    image = torch.randn(120, 1, features, generator=g) + labels[:, None, None]
    return TrainingData(labels=labels, classes=2, image=image)


def test_token_normalisation_refuses_one_feature_and_warns_for_three() -> None:
    splits = [SeedSplit(0, np.arange(80), np.arange(80, 120))]
    with pytest.raises(
        TrainingError, match=r"1 feature\(s\) per token: token normalisation reduces it to zero"
    ):
        fit(_privileged(1), splits, CONFIG)
    with pytest.warns(UserWarning, match="3 features land on a circle"):
        fit(_privileged(3), splits, CONFIG)
    kept_config = CONFIG.model_copy(update={"normalise_tokens": False, "epochs": 40, "lr": 5e-2})
    kept = fit(_privileged(1), splits, kept_config)
    assert kept.model.final_auc[0] > 0.7  # the one feature, kept, separates the classes


def test_the_package_docstring_example_runs() -> None:
    """The example on plain arrays in ``radsweep.training``'s docstring, executed as written."""
    doc = radsweep.training.__doc__
    assert doc is not None
    code = textwrap.dedent(doc[doc.index("::") + 2 : doc.index("``TrainConfig`` options")])
    namespace: dict[str, object] = {}
    exec(compile(code, "radsweep.training docstring", "exec"), namespace)
    held_out = namespace["held_out"]
    assert held_out.probabilities.shape == (3, 200, 2)  # type: ignore[attr-defined]
    assert held_out.accuracy is not None  # type: ignore[attr-defined]


def test_with_test_rows_the_curves_are_scored_where_nothing_was_selected() -> None:
    data = token_features(samples=240, views=1)
    splits = [
        SeedSplit(s.seed, s.train, s.validation[:30], s.validation[30:])
        for s in seed_splits(data.samples, [0, 1], train=[100, 100], validation=60)
    ]
    config = CONFIG.model_copy(update={"method": Method.DISTILL})
    result = fit(data, splits, config, device="cpu")
    assert result.predictor is not None and result.selection is not None
    assert result.teacher is not None and result.teacher.selected is not None
    assert result.validation_sizes == (30, 30)
    for index, split in enumerate(splits):
        assert split.test is not None
        scored = result.predictor.evaluate(data.labels[split.test], image=data.image[:, split.test])
        assert scored.auc[index] == pytest.approx(result.model.final_auc[index], abs=1e-5)
        chosen = result.selection.auc[index]
        assert result.model.selected is not None
        assert result.model.selected[index] == int(np.nanargmax(chosen))
    assert not np.allclose(result.selection.auc, result.model.auc)
    with pytest.raises(TrainingError, match="every seed has test rows"):
        fit(data, [splits[0], replace(splits[1], test=None)], CONFIG, device="cpu")
    overlapping = replace(splits[0], test=splits[0].validation)
    with pytest.raises(TrainingError, match="validation and test rows overlap"):
        fit(data, [overlapping], CONFIG, device="cpu")
