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


class StackedAttentionPool(nn.Module):
    """LayerNorm, single-head self-attention (learned Q/K/V maps), then mean over the tokens.

    The seed's Appendix A: dropout (p) on the attention weights before they weight the values.
    Dropout comes from a ``SeedDropout`` so each seed draws its masks from its own generator.
    """

    def __init__(self, dim: int, generators: list[torch.Generator]) -> None:
        super().__init__()
        self.norm = StackedLayerNorm(dim, len(generators))
        self.qkv = StackedLinear(dim, 3 * dim, generators)
        self.scale = 1 / math.sqrt(dim)

    def _project(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Q (already scaled by 1/sqrt(d)), K and V of LayerNorm(tokens), each contiguous.

        The LayerNorm's scale g and shift h are folded into the projection: (x g + h) W + c equals
        x (g W) + (h W + c). Same function, same parameters; but the normalised frozen tokens x
        need no gradient, which saves the input-gradient GEMM and passes over the largest tensor.
        """
        s, b, t, d = tokens.shape
        normalised = F.layer_norm(tokens, (d,)).view(s, b * t, d)
        weight = self.norm.weight.unsqueeze(-1) * self.qkv.weight
        bias = torch.baddbmm(
            self.qkv.bias.unsqueeze(1), self.norm.bias.unsqueeze(1), self.qkv.weight
        )
        scales = (self.scale, 1.0, 1.0)
        return tuple(
            torch.baddbmm(
                bias[..., i * d : (i + 1) * d],
                normalised,
                weight[..., i * d : (i + 1) * d],
                beta=scale,
                alpha=scale,
            ).view(s, b, t, d)
            for i, scale in enumerate(scales)
        )  # type: ignore[return-value]

    def forward(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor | None = None,
        dropout: "SeedDropout | None" = None,
    ) -> torch.Tensor:
        """``[S, B, T, D]`` tokens (``mask`` ``[S, B, T]``, True = real) to ``[S, B, D]``."""
        s, b, t, d = tokens.shape
        q, k, v = self._project(tokens)
        scores = torch.bmm(q.view(s * b, t, d), k.view(s * b, t, d).transpose(1, 2))
        scores = scores.view(s, b, t, t)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, :, None, :], float("-inf"))
        weights = scores.softmax(dim=-1)
        if dropout is not None:
            weights = dropout(weights)
        # Mean pooling commutes with the value product: average the attention rows of the real
        # queries first, then one [1, T] x [T, D] product per sample instead of [T, T] x [T, D].
        if mask is None:
            row_mean = weights.mean(dim=2)
        else:
            valid = mask.to(weights.dtype)
            row_mean = torch.einsum("sbqk,sbq->sbk", weights, valid)
            row_mean = row_mean / valid.sum(dim=2, keepdim=True).clamp_min(1.0)
        return torch.matmul(row_mean.view(s * b, 1, t), v.reshape(s * b, t, d)).view(s, b, d)
