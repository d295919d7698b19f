"""The catalogue of image heads: one ``HeadSpec`` per head, and every caller reads it.

The trainer, the input checks, the sweep specs, the cost plan and the reports ask a head's spec
what it reads, how it starts and what it is called, instead of branching on its name; so adding a
head is one ``register_head`` call plus the module that holds its image branch.

This module imports no torch: configurations, specs and reports validate head names and read
their labels without loading it. The branch is named by import path and built on first use.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator

from radsweep.errors import did_you_mean

if TYPE_CHECKING:
    import torch
    from torch import nn

ATTENTION_LR = 1e-4  # Appendix A: every model of the main paper
LINEAR_PROBE_LR = 1e-3  # Appendix C.1: the Mean-LP and CLS-LP ablations


class HeadKind(StrEnum):
    """The paper's heads: its self-attention head and the Appendix C.1 linear probes."""

    ATTENTION = "attention"
    MEAN_LP = "mean-lp"
    CLS_LP = "cls-lp"


PAPER_HEAD = HeadKind.ATTENTION
"""The head of the paper's main results: the figures that compare methods read its runs."""

TEXT_HEADS = (HeadKind.ATTENTION, HeadKind.MEAN_LP)
"""Heads a text-only model can take: the report attention pool, or a linear probe on the mean
of the report's real tokens (reports have no CLS vector in the cache)."""


def check_text_head(name: str) -> None:
    """A ``ValueError`` unless a text-only model can take head ``name``."""
    if name not in TEXT_HEADS:
        raise ValueError(f"a text-only model takes head {' or '.join(TEXT_HEADS)}, not {name!r}")


Pool = Callable[["torch.Tensor"], "torch.Tensor"]


@dataclass(frozen=True)
class HeadSpec:
    """What every caller needs to know about one image head.

    ``features`` is the ``TrainingData`` field the head reads: ``image`` (local tokens
    ``[..., N, T, D]``) or ``image_cls`` (the CLS token ``[..., N, D]``). The engine LayerNorms
    them (no affine) once at load, then applies ``pool`` to each chunk of samples: a head that
    reads one vector per sample reduces the tokens there, once, instead of at every step (its
    input is kept in float32). Without ``pool`` the head reads every token, kept in the cache's
    dtype. ``branch`` is ``"module:callable"``: called with ``(dim, generators)`` it returns a
    module mapping ``(image [S, B, ...], dropout)`` to one vector ``[S, B, dim]`` per sample.
    ``forward_flops(tokens, dim)`` is the branch's forward cost per sample, for the cost plan.
    """

    name: str
    display: str
    learning_rate: float
    features: Literal["image", "image_cls"]
    pool: Pool | None
    branch: str
    forward_flops: Callable[[int, int], float]

    @property
    def reads_cls(self) -> bool:
        return self.features == "image_cls"

    def build_branch(self, dim: int, generators: list["torch.Generator"]) -> "nn.Module":
        module, _, attribute = self.branch.partition(":")
        factory: Any = getattr(import_module(module), attribute)
        return factory(dim, generators)


_HEADS: dict[str, HeadSpec] = {}


def register_head(spec: HeadSpec) -> HeadSpec:
    """Add ``spec`` to the catalogue (a name registers once); heads list in registration order."""
    if spec.name in _HEADS:
        raise ValueError(f"head {spec.name!r} is already registered")
    _HEADS[spec.name] = spec
    return spec


def unregister_head(name: str) -> None:
    """Remove a head (for tests that register one of their own)."""
    del _HEADS[name]


def head_spec(name: str) -> HeadSpec:
    """The spec of a registered head; a ``ValueError`` naming the known heads otherwise."""
    spec = _HEADS.get(name)
    if spec is None:
        close = did_you_mean(name, _HEADS)
        raise ValueError(f"unknown head {name!r}; {close}known heads: {', '.join(_HEADS)}")
    return spec


def head_specs() -> list[HeadSpec]:
    """Every registered head, in registration order (the order reports list them in)."""
    return list(_HEADS.values())


def _registered(name: str) -> str:
    """A registered head's own name object: the ``HeadKind`` member for the paper's heads."""
    return head_spec(name).name


HeadName = Annotated[str, AfterValidator(_registered)]
"""A configuration field holding the name of a registered head."""


def attention_pool_flops(tokens: int, dim: int) -> float:
    """Forward FLOPs per sample of ``StackedAttentionPool``: the score map on every token
    (2 T D^2), the scores (2 T^2 D), the pooled tokens (2 T D) and the value map (2 D^2)."""
    return (
        2.0 * tokens * dim * dim
        + 2.0 * tokens * tokens * dim
        + 2.0 * tokens * dim
        + 2.0 * dim * dim
    )


def attention_maps_flops(dim: int) -> float:
    """Forward FLOPs of ``StackedAttentionPool``'s maps, per seed and per pass (a training step
    or a validation chunk), whatever its rows: the score map ``W_q W_k^T`` (2 D^3), its key
    bias (2 D^2) and the LayerNorm shift folded into the biases (6 D^2). Training costs three
    times this: both operands of each product are trained."""
    return 2.0 * dim**3 + 8.0 * dim * dim


def probe_flops(tokens: int, dim: int) -> float:
    """A linear probe: affine LayerNorm and a linear classifier on one vector per sample."""
    return 4.0 * dim


def mean_of_tokens(tokens: "torch.Tensor") -> "torch.Tensor":
    return tokens.mean(-2)


def cls_vector(cls: "torch.Tensor") -> "torch.Tensor":
    """The CLS token is already one vector per sample: kept as it is (in float32)."""
    return cls


register_head(
    HeadSpec(
        name=HeadKind.ATTENTION,
        display="Attention head",
        learning_rate=ATTENTION_LR,
        features="image",
        pool=None,
        branch="radsweep.training.heads:AttentionBranch",
        forward_flops=attention_pool_flops,
    )
)
register_head(
    HeadSpec(
        name=HeadKind.MEAN_LP,
        display="Mean - LP",
        learning_rate=LINEAR_PROBE_LR,
        features="image",
        pool=mean_of_tokens,
        branch="radsweep.training.heads:ProbeBranch",
        forward_flops=probe_flops,
    )
)
register_head(
    HeadSpec(
        name=HeadKind.CLS_LP,
        display="CLS - LP",
        learning_rate=LINEAR_PROBE_LR,
        features="image_cls",
        pool=cls_vector,
        branch="radsweep.training.heads:ProbeBranch",
        forward_flops=probe_flops,
    )
)
