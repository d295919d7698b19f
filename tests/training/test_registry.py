"""The head catalogue: the paper's heads as entries, and a head added by one entry trains."""

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from radsweep.errors import TrainingError
from radsweep.training import HeadKind, TrainConfig, TrainingData, fit
from radsweep.training.registry import (
    ATTENTION_LR,
    LINEAR_PROBE_LR,
    PAPER_HEAD,
    head_spec,
    head_specs,
    register_head,
)
from tests.training.max_pool_head import NAME, MaxPoolBranch, max_pool_head
from tests.training.synthetic import seed_splits, token_features


def _generators(count: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed) for seed in range(count)]


def test_the_papers_heads_are_the_catalogue_with_their_learning_rates() -> None:
    assert [spec.name for spec in head_specs()] == ["attention", "mean-lp", "cls-lp"]
    assert [spec.name for spec in head_specs()] == [kind.value for kind in HeadKind]
    assert PAPER_HEAD == "attention"
    rates = {spec.name: spec.learning_rate for spec in head_specs()}
    assert rates == {"attention": ATTENTION_LR, "mean-lp": LINEAR_PROBE_LR, "cls-lp": 1e-3}
    assert ATTENTION_LR == 1e-4  # Appendix A; the probes' 1e-3 is Appendix C.1
    assert [spec.features for spec in head_specs()] == ["image", "image", "image_cls"]
    assert TrainConfig(head="mean-lp").learning_rate == LINEAR_PROBE_LR
    assert TrainConfig(head="mean-lp", lr=0.5).learning_rate == 0.5


@pytest.mark.parametrize("name", [kind.value for kind in HeadKind])
def test_every_branch_builds_and_pools_to_one_vector_per_sample(name: str) -> None:
    spec = head_spec(name)
    tokens = torch.randn(2, 5, 7, 16)
    image = (
        tokens if spec.pool is None else spec.pool(tokens[:, :, 0] if spec.reads_cls else tokens)
    )
    branch = spec.build_branch(16, _generators(2))
    assert branch(image, None).shape == (2, 5, 16)
    assert spec.forward_flops(7, 16) > 0


def test_unknown_heads_are_rejected_naming_the_known_ones() -> None:
    expected = r"unknown head 'max-lp'; did you mean mean-lp\? known heads: attention, "
    with pytest.raises(ValidationError, match=expected):
        TrainConfig(head="max-lp")
    with pytest.raises(ValueError, match="already registered"):
        register_head(head_spec("attention"))


def test_a_head_without_its_features_fails_naming_the_heads_that_fit() -> None:
    data = token_features(samples=120)
    data = TrainingData(labels=data.labels, classes=2, image=data.image)
    splits = seed_splits(data.samples, [0], train=[80], validation=40)
    with pytest.raises(TrainingError, match="head cls-lp needs a CLS token") as error:
        fit(data, splits, TrainConfig(head="cls-lp", epochs=1))
    assert error.value.hint == "use --head attention or mean-lp, or a ViT backbone"


def _spiked(samples: int = 240, tokens: int = 8, dim: int = 16) -> TrainingData:
    """Class 1 puts a spike on feature 0 of one random token: the max over tokens finds it."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(samples) % 2
    image = torch.randn(samples, tokens, dim, generator=g)
    spot = torch.randint(0, tokens, (samples,), generator=g)
    image[torch.arange(samples), spot, 0] += 4.0 * labels
    return TrainingData(labels=labels, classes=2, image=image)


def test_a_head_registered_in_a_test_trains_end_to_end() -> None:
    data = _spiked()
    splits = seed_splits(data.samples, [0, 1], train=[160, 150], validation=80)
    with max_pool_head():
        assert TrainConfig(head=NAME).learning_rate == LINEAR_PROBE_LR
        config = TrainConfig(head=NAME, epochs=10, batch_size=32, lr=3e-2)
        result = fit(data, splits, config, device="cpu")
        single = fit(data, splits[1:], config, device="cpu")
        probabilities = result.predictor.probabilities(image=data.image[0, :10])
    mean = fit(data, splits, config.model_copy(update={"head": HeadKind.MEAN_LP}), device="cpu")
    assert isinstance(result.predictor.model.branch, MaxPoolBranch)
    assert result.model.final_auc.min() > 0.9
    assert mean.model.final_auc.max() < 0.85  # the spike is the max's to find, not the mean's
    assert result.model.loss[:, -1].mean() < result.model.loss[:, 0].mean()
    np.testing.assert_allclose(result.model.loss[1], single.model.loss[0], atol=2e-5)
    assert probabilities.shape == (2, 10, 2)
    with pytest.raises(ValidationError, match="unknown head"):
        TrainConfig(head=NAME)
