"""Mixed precision: bf16 heads land where fp32 heads do, and the vectorized fit still equals one
seed at a time in every precision (bf16 autocast runs on the CPU too)."""

import numpy as np
import pytest
import torch

from radsweep.errors import TrainingError
from radsweep.training import HeadKind, Method, TrainConfig, fit
from radsweep.training.config import Precision
from radsweep.training.engine import DeviceFeatures
from radsweep.training.layers import normalise_tokens
from radsweep.training.precision import autocast, compute_dtype
from tests.training.synthetic import privileged_features, seed_splits, token_features

torch.set_flush_denormal(True)

PARITY_AUC = 0.01
"""Largest per-seed difference of final validation AUC allowed between bf16 and fp32 heads. bf16
keeps 8 bits of mantissa, so logits differ by about 1 %, which reorders a few close validation
rows, never the model's quality (measured: under 5e-4 at every seed of both regimes)."""


@pytest.mark.parametrize(
    ("method", "head"), [(Method.DISTILL, HeadKind.ATTENTION), (Method.IMAGE, HeadKind.MEAN_LP)]
)
def test_vectorized_equals_one_seed_at_a_time_in_bf16(method: Method, head: HeadKind) -> None:
    """test_engine's oracle under bf16 autocast (tf32 computes fp32's numbers off CUDA)."""
    data = token_features()
    splits = seed_splits(data.samples, [0, 1, 2], train=[100, 70, 129], validation=60)
    config = TrainConfig(method=method, head=head, epochs=2, batch_size=32, precision="bf16")
    vectorized = fit(data, splits, config, device="cpu")
    for index, split in enumerate(splits):
        single = fit(data, [split], config, device="cpu")
        for name in ("auc", "auprc", "loss"):
            np.testing.assert_allclose(
                getattr(vectorized.model, name)[index], getattr(single.model, name)[0], atol=2e-5
            )


@pytest.mark.parametrize("kind", ["prognostic", "diagnostic"])
def test_bf16_final_aucs_are_within_the_stated_tolerance_of_fp32(kind: str) -> None:
    """The demo's image-only attention head on the paper's two regimes in miniature, 3 seeds."""
    data = privileged_features(kind, samples=300)
    splits = seed_splits(data.samples, [0, 1, 2], train=[180] * 3, validation=120)
    runs = {
        precision: fit(
            data, splits, TrainConfig(epochs=3, lr=1e-3, precision=precision), device="cpu"
        ).model
        for precision in (Precision.FP32, Precision.BF16)
    }
    fp32, bf16 = runs[Precision.FP32], runs[Precision.BF16]
    assert fp32.final_auc.min() > 0.58  # the heads learned something to compare
    np.testing.assert_allclose(bf16.final_auc, fp32.final_auc, atol=PARITY_AUC)
    assert not np.array_equal(bf16.loss, fp32.loss)  # bf16 did run: the numbers moved


def test_the_result_names_the_precision_that_ran() -> None:
    data = token_features(samples=120)
    splits = seed_splits(data.samples, [0], train=[80], validation=40)
    assert fit(data, splits, TrainConfig(epochs=1), device="cpu").config.precision == "fp32"
    tf32 = fit(data, splits, TrainConfig(epochs=1, precision=Precision.TF32), device="cpu")
    assert tf32.config.precision is Precision.FP32  # TF32 is a CUDA mode: fp32's numbers here


def test_the_device_default_and_tf32_off_cuda() -> None:
    assert Precision.on(None, "cuda") is Precision.BF16
    assert Precision.on(None, "cpu") is Precision.FP32
    assert Precision.on(Precision.TF32, "cuda") is Precision.TF32
    assert Precision.on(Precision.BF16, "cpu") is Precision.BF16


def test_bf16_autocasts_forward_products_only() -> None:
    cpu = torch.device("cpu")
    x = torch.randn(4, 4)
    with autocast(Precision.BF16, cpu):
        assert (x @ x).dtype == torch.bfloat16 and compute_dtype(x) == torch.bfloat16
    with autocast(Precision.FP32, cpu):
        assert (x @ x).dtype == torch.float32 and compute_dtype(x) == torch.float32


def test_a_diverging_bf16_run_still_fails() -> None:
    data = token_features(samples=120)
    splits = seed_splits(data.samples, [0], train=[80], validation=40)
    config = TrainConfig(epochs=2, lr=1e30, precision=Precision.BF16)
    with pytest.raises(TrainingError, match="diverged"):
        fit(data, splits, config, device="cpu")


def test_bf16_heads_keep_and_gather_tokens_in_bf16_and_fp32_heads_do_not() -> None:
    """bf16 heads read their tokens in bf16: stored so, they are gathered without a cast;
    fp32 keeps the cache's float16 tokens and gathers float32, as before."""
    data = token_features(samples=40)
    cpu, rows = torch.device("cpu"), torch.tensor([[3, 1, 4], [1, 5, 9]])
    views = torch.tensor([[0, 2, 1], [1, 1, 0]])
    for precision, stored, gathered in (
        (Precision.BF16, (torch.bfloat16, torch.bfloat16), torch.bfloat16),
        (Precision.FP32, (torch.float16, torch.float32), torch.float32),  # the inputs' own
    ):
        config = TrainConfig(method=Method.TEACHER, epochs=1, precision=precision)
        features = DeviceFeatures.load(data, config, cpu, text=True)
        assert features.image is not None and features.text is not None
        assert (features.image.dtype, features.text.dtype) == stored
        batch = features.batch(rows, views)
        assert batch.image is not None and batch.text is not None
        assert (batch.image.dtype, batch.text.dtype) == (gathered, gathered)
        torch.testing.assert_close(batch.image, features.image[views, rows].to(gathered))
    bf16 = DeviceFeatures.load(data, TrainConfig(precision=Precision.BF16), cpu, text=False)
    assert bf16.image is not None and data.image is not None
    expected = normalise_tokens(data.image).to(torch.bfloat16)
    assert torch.equal(bf16.image, expected)  # rounded once, from the normalised float32


def test_probe_vectors_stay_float32_under_bf16() -> None:
    """Mean-LP's pooled vectors are small and scaled elementwise in float32: not rounded."""
    data = token_features(samples=40)
    config = TrainConfig(head=HeadKind.MEAN_LP, precision=Precision.BF16)
    features = DeviceFeatures.load(data, config, torch.device("cpu"), text=False)
    assert features.image is not None and features.image.dtype == torch.float32
