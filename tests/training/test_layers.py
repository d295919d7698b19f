"""Stacked layers equal their per-seed PyTorch counterparts, seed by seed."""

import math

import pytest
import torch
from torch import nn

from radsweep.training import layers
from radsweep.training.layers import (
    FrozenInputAffine,
    SeedDropout,
    StackedAttentionPool,
    StackedLayerNorm,
    StackedLinear,
    normalise_tokens,
)


def _generators(*seeds: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def test_stacked_linear_is_one_linear_per_seed() -> None:
    layer = StackedLinear(6, 3, _generators(0, 1))
    x = torch.randn(2, 5, 4, 6)
    out = layer(x)
    for s in range(2):
        reference = nn.Linear(6, 3)
        reference.weight.data, reference.bias.data = layer.weight[s].T, layer.bias[s]
        torch.testing.assert_close(out[s], reference(x[s]))
    assert layer.weight.abs().max() <= 1 / math.sqrt(6)
    assert not torch.equal(layer.weight[0], layer.weight[1])


def test_initialisation_does_not_depend_on_the_other_seeds() -> None:
    alone = StackedLinear(6, 3, _generators(1))
    together = StackedLinear(6, 3, _generators(0, 1))
    torch.testing.assert_close(alone.weight[0], together.weight[1])


def test_stacked_layer_norm_matches_layer_norm() -> None:
    norm = StackedLayerNorm(8, 2)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-1, 1)
    x = torch.randn(2, 3, 8)
    for s in range(2):
        reference = nn.LayerNorm(8)
        reference.weight.data, reference.bias.data = norm.weight[s], norm.bias[s]
        torch.testing.assert_close(norm(x)[s], reference(x[s]))


def _reference_pool(pool: StackedAttentionPool, s: int, x: torch.Tensor, mask: torch.Tensor):
    """Textbook attention for seed ``s``: softmax(QK^T/sqrt(d)) V, mean over real queries."""
    h = nn.functional.layer_norm(x, x.shape[-1:], pool.norm.weight[s], pool.norm.bias[s])
    q, k, v = (h @ pool.qkv.weight[s] + pool.qkv.bias[s]).chunk(3, dim=-1)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(x.shape[-1])
    weights = scores.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)
    attended = weights @ v
    return (attended * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)


def test_attention_pool_matches_textbook_attention_with_mask() -> None:
    pool = StackedAttentionPool(8, _generators(0, 1))
    x = torch.randn(2, 4, 5, 8)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0], [1, 1, 0, 1, 0]])
    mask = mask.bool().expand(2, 4, 5)
    out = pool(normalise_tokens(x), mask)
    for s in range(2):
        torch.testing.assert_close(out[s], _reference_pool(pool, s, x[s], mask[s]))


def test_masked_tokens_do_not_change_the_output() -> None:
    pool = StackedAttentionPool(8, _generators(0))
    x = torch.randn(1, 2, 5, 8)
    mask = torch.tensor([[[1, 1, 1, 0, 0]] * 2]).bool()
    changed = x.clone()
    changed[..., 3:, :] = 100.0
    torch.testing.assert_close(
        pool(normalise_tokens(x), mask), pool(normalise_tokens(changed), mask)
    )


def test_seed_dropout_masks_follow_each_seed_alone() -> None:
    x = torch.ones(3, 4, 10)
    together = SeedDropout(0.2, _generators(0, 1, 2))(x)
    alone = SeedDropout(0.2, _generators(1))(x[:1])
    torch.testing.assert_close(together[1], alone[0])
    assert set(together.unique().tolist()) == {0.0, 1.25}
    generators = _generators(0, 1, 2)
    skipped = SeedDropout(0.2, generators, active=[True, False, True])(x)
    assert (skipped[1] != 0).all()  # an inactive seed draws no mask...
    after = SeedDropout(0.2, generators)(x)
    torch.testing.assert_close(after[1], alone[0])  # ...so its stream has not moved
    torch.testing.assert_close(SeedDropout(0.2, _generators(0, 1, 2)).only(1)(x[:1]), alone)


def test_seed_by_seed_attention_equals_the_batched_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the CPU large batches attend seed by seed; that computes what the batched path does."""
    pool = StackedAttentionPool(8, _generators(0, 1, 2))
    tokens = normalise_tokens(torch.randn(3, 4, 5, 8))
    mask = torch.rand(3, 4, 5) > 0.3
    mask[..., 0] = True

    def pooled_and_grads(seed_by_seed_from: int) -> list[torch.Tensor]:
        monkeypatch.setattr(layers, "SEED_BY_SEED_FROM", seed_by_seed_from)
        pool.zero_grad()
        dropout = SeedDropout(0.2, _generators(7, 8, 9), active=[True, False, True])
        out = pool(tokens, mask, dropout)
        (out * torch.arange(8.0)).sum().backward()
        return [out.detach()] + [p.grad.clone() for p in pool.parameters()]

    for seed_by_seed, batched in zip(pooled_and_grads(1), pooled_and_grads(2**40), strict=True):
        torch.testing.assert_close(seed_by_seed, batched)


def test_attention_pool_gradients_match_textbook_attention() -> None:
    """The regrouped products (score map, pooled values) train the same parameters alike."""
    pool = StackedAttentionPool(8, _generators(0, 1))
    with torch.no_grad():
        pool.norm.weight.uniform_(0.5, 1.5)
        pool.norm.bias.uniform_(-1, 1)
    x = torch.randn(2, 4, 5, 8, dtype=torch.float64)
    pool = pool.double()
    mask = (torch.rand(2, 4, 5) > 0.3).index_fill(-1, torch.tensor([0]), True)
    upstream = torch.randn(2, 4, 8, dtype=torch.float64)
    (pool(nn.functional.layer_norm(x, (8,)), mask) * upstream).sum().backward()
    ours = [p.grad.clone() for p in pool.parameters()]
    pool.zero_grad()
    reference = torch.stack([_reference_pool(pool, s, x[s], mask[s]) for s in range(2)])
    (reference * upstream).sum().backward()
    for got, expected in zip(ours, [p.grad for p in pool.parameters()], strict=True):
        torch.testing.assert_close(got, expected)


def test_dropout_keeps_the_value_bias_exact() -> None:
    """With dropout the attention rows no longer sum to one; the value bias follows their sum."""
    pool = StackedAttentionPool(8, _generators(0))
    with torch.no_grad():
        pool.qkv.bias.uniform_(-3, 3)
    tokens = normalise_tokens(torch.randn(1, 3, 6, 8))
    out = pool(tokens, dropout=SeedDropout(0.5, _generators(4)))
    weight = pool.norm.weight.unsqueeze(-1) * pool.qkv.weight
    bias = pool.norm.bias.unsqueeze(1) @ pool.qkv.weight + pool.qkv.bias.unsqueeze(1)
    q, k, v = (tokens[0] @ weight[0] + bias[0]).chunk(3, dim=-1)
    weights = ((q @ k.transpose(-1, -2)) / math.sqrt(8)).softmax(-1)
    dropped = SeedDropout(0.5, _generators(4))(weights[None])[0]
    torch.testing.assert_close(out[0], (dropped @ v).mean(1))


def test_weight_gradient_of_the_projection_matches_autograd() -> None:
    """The hand-written backward of the Q/K/V projection (per-seed products on the CPU)."""
    inputs, weight = torch.randn(3, 20, 6), torch.randn(3, 6, 4, requires_grad=True)
    bias = torch.randn(3, 1, 4, requires_grad=True)
    upstream = torch.randn(3, 20, 4)
    (FrozenInputAffine.apply(bias, inputs, weight, 0.5) * upstream).sum().backward()
    expected_weight, expected_bias = torch.autograd.grad(
        (torch.baddbmm(bias, inputs, weight, beta=0.5, alpha=0.5) * upstream).sum(),
        [weight, bias],
    )
    torch.testing.assert_close(weight.grad, expected_weight)
    torch.testing.assert_close(bias.grad, expected_bias)
