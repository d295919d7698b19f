"""Layers stacked over seeds: every parameter has a leading seed dimension ``S``.

Seed ``s`` owns slice ``s`` of every parameter and draws its initialisation from its own generator,
so a stack of S seeds computes exactly what S separate models would, in one batched matmul.
Initialisations follow PyTorch's defaults (``nn.Linear``: U(-1/sqrt(fan_in), 1/sqrt(fan_in));
``nn.LayerNorm``: ones and zeros).
"""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from radsweep.training.precision import compute_dtype


def _uniform(
    generators: list[torch.Generator], shape: tuple[int, ...], bound: float
) -> torch.Tensor:
    draws = [torch.rand(shape, generator=g) * (2 * bound) - bound for g in generators]
    return torch.stack(draws)


class SeedDropout:
    """Dropout for stacked tensors ``[S, ...]`` where seed ``s`` draws from ``generators[s]``.

    One global RNG would make a seed's masks depend on how many seeds share the pass; per-seed
    generators keep a vectorized run identical to running the seeds one at a time. Seeds marked
    inactive (no batch at this step) draw nothing, so their streams stay in step too.
    """

    def __init__(
        self, p: float, generators: list[torch.Generator], active: Sequence[bool] | None = None
    ) -> None:
        self.keep = 1.0 - p
        self.generators = generators
        self.active = [True] * len(generators) if active is None else list(active)

    def only(self, seed: int) -> "SeedDropout":
        """The dropout of one seed, for a stack holding that seed alone (same generator)."""
        return SeedDropout(1.0 - self.keep, [self.generators[seed]], [self.active[seed]])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.keep == 1.0:
            return x
        shape, device = x.shape[1:], x.device
        masks = [
            torch.rand(shape, generator=g, device=device) < self.keep
            if on
            else torch.ones(shape, dtype=torch.bool, device=device)
            for g, on in zip(self.generators, self.active, strict=True)
        ]
        return x * torch.stack(masks) / self.keep


def normalise_tokens(tokens: torch.Tensor) -> torch.Tensor:
    """LayerNorm without affine over the last dimension, computed in float32: what the stacked
    LayerNorms (``StackedLayerNorm.affine``, ``StackedAttentionPool``) expect as input."""
    return F.layer_norm(tokens.float(), tokens.shape[-1:])


def _weight_gradient(inputs: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``inputs^T @ grad`` per seed: ``[S, N, I]``, ``[S, N, O]`` -> ``[S, I, O]``.

    On the CPU one product per seed: a batched product over a transposed operand is split across
    cores by seed, so 5 seeds on 2 cores ran 3 rounds of single-core products (measured 0.16 s
    per seed at ViT-B shape, against 0.11 s for one 2-core product per seed).
    """
    if inputs.device.type != "cpu":
        return torch.bmm(inputs.transpose(1, 2), grad)
    out = grad.new_empty(inputs.shape[0], inputs.shape[2], grad.shape[2])
    for seed, (rows, seed_grad) in enumerate(zip(inputs, grad, strict=True)):
        torch.mm(rows.t(), seed_grad, out=out[seed])
    return out


class FrozenInputAffine(torch.autograd.Function):
    """``scale * (bias + inputs @ weight)`` per seed, for inputs that need no gradient."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        bias: torch.Tensor,
        inputs: torch.Tensor,
        weight: torch.Tensor,
        scale: float,
    ) -> torch.Tensor:
        # Under autocast the product runs in its dtype: cast (as autocast would) and save the
        # cast inputs, so the backward's product meets a gradient of the same dtype.
        dtype = compute_dtype(inputs)
        bias, inputs, weight = bias.to(dtype), inputs.to(dtype), weight.to(dtype)
        ctx.save_for_backward(inputs)
        # autograd's ctx carries what forward stores on it; FunctionCtx declares none of it
        ctx.scale = scale  # type: ignore[attr-defined]
        return torch.baddbmm(bias, inputs, weight, beta=scale, alpha=scale)

    @staticmethod
    def backward(
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[torch.Tensor, None, torch.Tensor, None]:
        # saved_tensors and scale live on the backward node autograd passes as ctx
        (inputs,) = ctx.saved_tensors  # type: ignore[attr-defined]
        scale = ctx.scale  # type: ignore[attr-defined]
        # Scaled after the reductions: the small results, not the large gradient.
        bias_grad = grad.sum(1, keepdim=True).mul_(scale)
        return bias_grad, None, _weight_gradient(inputs, grad).mul_(scale), None


class StackedLinear(nn.Module):
    """``S`` independent ``nn.Linear(d_in, d_out)``: ``[S, ..., d_in] -> [S, ..., d_out]``."""

    def __init__(self, d_in: int, d_out: int, generators: list[torch.Generator]) -> None:
        super().__init__()
        bound = 1 / math.sqrt(d_in)
        self.weight = nn.Parameter(_uniform(generators, (d_in, d_out), bound))
        self.bias = nn.Parameter(_uniform(generators, (d_out,), bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1, x.shape[-1])
        out = torch.baddbmm(self.bias.unsqueeze(1), flat, self.weight)
        return out.reshape(*x.shape[:-1], self.weight.shape[-1])


class StackedLayerNorm(nn.Module):
    """``S`` independent ``nn.LayerNorm(dim)`` over the last dimension of ``[S, ..., dim]``."""

    def __init__(self, dim: int, seeds: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(seeds, dim))
        self.bias = nn.Parameter(torch.zeros(seeds, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.affine(F.layer_norm(x, x.shape[-1:]))

    def affine(self, normalised: torch.Tensor) -> torch.Tensor:
        """The per-seed scale and shift alone, for inputs normalised ahead of time."""
        shape = (normalised.shape[0],) + (1,) * (normalised.dim() - 2) + (normalised.shape[-1],)
        return normalised * self.weight.view(shape) + self.bias.view(shape)


# Token values per seed from which the CPU attends seed by seed (2 MiB of float32). Measured on
# 2 cores at batch 64: batched is faster at 16 x 64 tokens, even at 16 x 384; seed by seed wins
# from 49 x 512 (ResNet-18) up.
SEED_BY_SEED_FROM = 2**19


class StackedAttentionPool(nn.Module):
    """LayerNorm, single-head self-attention (learned Q/K/V maps), then mean over the tokens.

    The paper's Appendix A: dropout (p) on the attention weights before they weight the values.
    Dropout comes from a ``SeedDropout`` so each seed draws its masks from its own generator.
    The tokens arrive already normalised without affine (``normalise_tokens``): the features are
    frozen, so the engine normalises each sample once when it loads them, not at every step.

    The parameters are the textbook ones (one Q/K/V map); the computation is regrouped so that no
    per-token projection is wasted on frozen tokens. Per sample of T tokens of width D:

    * scores: ``(x_i W_q + c_q)(x_j W_k + c_k)^T`` equals ``x_i (W_q W_k^T) x_j^T + (c_q W_k^T)
      x_j^T`` plus terms constant over the keys j, which the softmax ignores. One product with
      ``M = W_q W_k^T`` (2TD^2) replaces the Q and K projections (4TD^2);
    * values: the mean over queries commutes with the value map, so the pooled vector is
      ``(a X) W_v + (sum a) c_v`` for the query-averaged attention row ``a``: 2TD + 2D^2 instead
      of projecting every token (2TD^2) and weighting it (2T^2 D).

    Measured with ``FlopCounterMode`` (forward and backward, 5 seeds): 2.0x fewer FLOPs than the
    textbook grouping for RAD-DINO's 1,369 tokens of 768, 2.5x for ViT-B/16's 196. With few rows
    per step and wide tokens (batch x tokens near 1.5 D, e.g. ResNet-50's 49 tokens of 2,048 at
    batch 64) the D^3 product of ``M`` offsets the saving. ``attention_pool_flops`` counts this
    form; a test checks the count.
    """

    def __init__(self, dim: int, generators: list[torch.Generator]) -> None:
        super().__init__()
        self.norm = StackedLayerNorm(dim, len(generators))
        self.qkv = StackedLinear(dim, 3 * dim, generators)
        self.scale = 1 / math.sqrt(dim)

    def _maps(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The score map ``M`` ``[S, D, D]`` with its key-side bias ``u`` ``[S, 1, D]`` (Q scaled
        by 1/sqrt(D)), and the value map ``W_v`` ``[S, D, D]`` with its bias ``c_v``
        ``[S, 1, D]``; all with the LayerNorm's scale g and shift h folded in.

        (x g + h) W + c equals x (g W) + (h W + c): same function, same parameters, but the
        normalised frozen tokens x need no gradient, which saves the input-gradient GEMMs.
        """
        d = self.qkv.weight.shape[1]
        weight = self.norm.weight.unsqueeze(-1) * self.qkv.weight
        bias = torch.baddbmm(
            self.qkv.bias.unsqueeze(1), self.norm.bias.unsqueeze(1), self.qkv.weight
        )
        query, key, value = weight.split(d, dim=-1)
        query_bias, _, value_bias = bias.split(d, dim=-1)
        key_t = key.transpose(1, 2)
        score_map = torch.bmm(query, key_t).mul_(self.scale)
        key_bias = torch.bmm(query_bias, key_t).mul_(self.scale)
        return score_map, key_bias, value, value_bias

    def forward(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor | None = None,
        dropout: "SeedDropout | None" = None,
    ) -> torch.Tensor:
        """``[S, B, T, D]`` normalised tokens (``mask`` ``[S, B, T]``, True = real) to
        ``[S, B, D]``.

        On the CPU, for batches of at least ``SEED_BY_SEED_FROM`` token values per seed, the
        seeds attend one after another (the parameters stay stacked and the caller's step is still
        one pass): all seeds at once push every intermediate out of cache between operations,
        which at ViT-B shape made the pass 10 % slower than separate runs. Small batches stay
        batched, where the loop's overhead would cost more (20 % at 16 tokens of 64).
        """
        maps = self._maps()
        seeds = tokens.shape[0]
        if tokens.device.type != "cpu" or seeds == 1 or tokens[0].numel() < SEED_BY_SEED_FROM:
            return _attend(tokens, mask, dropout, *maps)
        # split, not slicing: its backward writes the seeds' gradients into one tensor at once.
        masks = [None] * seeds if mask is None else mask.split(1)
        per_seed = zip(tokens.split(1), masks, *(m.split(1) for m in maps), strict=True)
        pooled = [
            _attend(x, m, None if dropout is None else dropout.only(seed), *seed_maps)
            for seed, (x, m, *seed_maps) in enumerate(per_seed)
        ]
        return torch.cat(pooled)


def _attend(
    tokens: torch.Tensor,
    mask: torch.Tensor | None,
    dropout: SeedDropout | None,
    score_map: torch.Tensor,
    key_bias: torch.Tensor,
    value_map: torch.Tensor,
    value_bias: torch.Tensor,
) -> torch.Tensor:
    """The pooled vectors ``[S, B, D]`` from the maps of ``StackedAttentionPool._maps``."""
    s, b, t, d = tokens.shape
    flat = tokens.reshape(s, b * t, d)
    queries = FrozenInputAffine.apply(key_bias, flat, score_map, 1.0)
    keys = tokens.reshape(s * b, t, d).transpose(1, 2)
    scores = torch.bmm(queries.view(s * b, t, d), keys).view(s, b, t, t)
    if mask is not None:
        scores = scores.masked_fill(~mask[:, :, None, :], float("-inf"))
    weights = scores.softmax(dim=-1)
    if dropout is not None:
        weights = dropout(weights)
    if mask is None:
        row_mean = weights.mean(dim=2)
    else:
        valid = mask.to(weights.dtype)
        row_mean = torch.einsum("sbqk,sbq->sbk", weights, valid)
        row_mean = row_mean / valid.sum(dim=2, keepdim=True).clamp_min(1.0)
    pooled = torch.bmm(row_mean.view(s * b, 1, t), tokens.reshape(s * b, t, d)).view(s, b, d)
    # Dropout leaves the attention rows summing to about, not exactly, one: weigh c_v by the sum.
    mass = row_mean.sum(dim=-1, keepdim=True)
    return torch.baddbmm(mass * value_bias, pooled, value_map)
