"""The classification heads of the paper's Appendix A (and C.1), stacked over seeds.

Every head maps a ``HeadInput`` (one batch per seed) to logits ``[S, B, K]``:

* image head: the image branch, then a linear classifier. The branch is the head's (its
  ``HeadSpec`` in ``training.registry``): the paper's self-attention pool over the LayerNorm'd
  tokens, or for the C.1 ablations a linear probe on the mean-pooled tokens (Mean-LP) or on the
  CLS token (CLS-LP) after LayerNorm;
* teacher: the image branch plus a separate attention pool over the text tokens (respecting the
  attention mask); each pooled vector is LayerNorm'd, the two are concatenated, one classifier;
* text-only (the paper's Table 7): the text attention pool and a classifier, or with the
  Mean-LP head a linear probe on the mean of the report's real tokens (a linear text probe, as
  the screen's probes are).

Every head receives its tokens already normalised without affine: LayerNorm minus its scale and
shift has nothing learnable, so the engine computes it (and a probe's pooling, such as Mean-LP's
mean) once per sample when it loads the frozen features; the heads apply the per-seed scale and
shift.
"""

from dataclasses import dataclass

import torch
from torch import nn

from radsweep.training.config import Method
from radsweep.training.layers import (
    SeedDropout,
    StackedAttentionPool,
    StackedLayerNorm,
    StackedLinear,
)
from radsweep.training.registry import HeadKind, check_text_head, head_spec


@dataclass(frozen=True)
class HeadInput:
    """One batch per seed: image tokens ``[S, B, T, D]`` (or ``[S, B, D]`` for linear probes),
    text tokens ``[S, B, L, E]`` with their mask ``[S, B, L]``; all LayerNorm'd without affine
    (``normalise_tokens``), as the engine loads them."""

    image: torch.Tensor | None = None
    text: torch.Tensor | None = None
    text_mask: torch.Tensor | None = None


class AttentionBranch(nn.Module):
    """The paper's image branch: the self-attention pool over every normalised token."""

    def __init__(self, dim: int, generators: list[torch.Generator]) -> None:
        super().__init__()
        self.pool = StackedAttentionPool(dim, generators)

    def forward(self, image: torch.Tensor, dropout: SeedDropout | None) -> torch.Tensor:
        return self.pool(image, dropout=dropout)


class ProbeBranch(nn.Module):
    """A linear probe's branch: the LayerNorm's per-seed scale and shift on a vector the engine
    already pooled and normalised (the C.1 ablations; the classifier follows)."""

    def __init__(self, dim: int, generators: list[torch.Generator]) -> None:
        super().__init__()
        self.norm = StackedLayerNorm(dim, len(generators))

    def forward(self, image: torch.Tensor, dropout: SeedDropout | None) -> torch.Tensor:
        return self.norm.affine(image)


class ImageHead(nn.Module):
    """The image-only model (baseline, student, self-distillation teacher)."""

    def __init__(
        self, head: str, dim: int, classes: int, generators: list[torch.Generator]
    ) -> None:
        super().__init__()
        self.branch = head_spec(head).build_branch(dim, generators)
        self.classifier = StackedLinear(dim, classes, generators)

    def forward(self, batch: HeadInput, dropout: SeedDropout | None = None) -> torch.Tensor:
        assert batch.image is not None
        return self.classifier(self.branch(batch.image, dropout))


class TextHead(nn.Module):
    """The report-only model of the paper's Table 7."""

    def __init__(self, dim: int, classes: int, generators: list[torch.Generator]) -> None:
        super().__init__()
        self.pool = StackedAttentionPool(dim, generators)
        self.classifier = StackedLinear(dim, classes, generators)

    def forward(self, batch: HeadInput, dropout: SeedDropout | None = None) -> torch.Tensor:
        assert batch.text is not None
        return self.classifier(self.pool(batch.text, batch.text_mask, dropout))


class TextProbeHead(nn.Module):
    """The report-only linear probe: the mean of the normalised real tokens, the per-seed
    LayerNorm scale and shift, one linear classifier (Mean-LP on the report)."""

    def __init__(self, dim: int, classes: int, generators: list[torch.Generator]) -> None:
        super().__init__()
        self.norm = StackedLayerNorm(dim, len(generators))
        self.classifier = StackedLinear(dim, classes, generators)

    def forward(self, batch: HeadInput, dropout: SeedDropout | None = None) -> torch.Tensor:
        assert batch.text is not None
        if batch.text_mask is None:
            pooled = batch.text.mean(-2)
        else:
            weights = batch.text_mask.to(batch.text.dtype).unsqueeze(-1)
            pooled = (batch.text * weights).sum(-2) / weights.sum(-2).clamp_min(1.0)
        return self.classifier(self.norm.affine(pooled))


class TeacherHead(nn.Module):
    """Image and report: two pooled vectors, each normalised, concatenated, one classifier."""

    def __init__(
        self,
        head: str,
        image_dim: int,
        text_dim: int,
        classes: int,
        generators: list[torch.Generator],
    ) -> None:
        super().__init__()
        seeds = len(generators)
        self.image_branch = head_spec(head).build_branch(image_dim, generators)
        self.text_pool = StackedAttentionPool(text_dim, generators)
        self.image_norm = StackedLayerNorm(image_dim, seeds)
        self.text_norm = StackedLayerNorm(text_dim, seeds)
        self.classifier = StackedLinear(image_dim + text_dim, classes, generators)

    def forward(self, batch: HeadInput, dropout: SeedDropout | None = None) -> torch.Tensor:
        assert batch.image is not None and batch.text is not None
        image = self.image_norm(self.image_branch(batch.image, dropout))
        text = self.text_norm(self.text_pool(batch.text, batch.text_mask, dropout))
        return self.classifier(torch.cat([image, text], dim=-1))


def build_head(
    method: Method,
    head: str,
    image_dim: int | None,
    text_dim: int | None,
    classes: int,
    generators: list[torch.Generator],
) -> nn.Module:
    """The model a method trains: teacher for ``teacher``, text-only for ``text`` (its head
    honoured: the attention pool, or Mean-LP's linear probe), else image."""
    if method is Method.TEXT:
        assert text_dim is not None
        check_text_head(head)
        if head == HeadKind.MEAN_LP:
            return TextProbeHead(text_dim, classes, generators)
        return TextHead(text_dim, classes, generators)
    assert image_dim is not None
    if method is Method.TEACHER:
        assert text_dim is not None
        return TeacherHead(head, image_dim, text_dim, classes, generators)
    return ImageHead(head, image_dim, classes, generators)
