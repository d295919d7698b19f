"""A head that exists only in the tests: a linear probe on the max over tokens.

It is the proof that adding a head is one catalogue entry plus its module: this file is the
module, ``max_pool_head()`` registers the entry, and no file of the package changes.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from radsweep.training import HeadSpec, register_head
from radsweep.training.layers import SeedDropout, StackedLayerNorm
from radsweep.training.registry import LINEAR_PROBE_LR, probe_flops, unregister_head

NAME = "max-lp"


class MaxPoolBranch(nn.Module):
    """The LayerNorm's per-seed scale and shift on every token, then the max over tokens."""

    def __init__(self, dim: int, generators: list[torch.Generator]) -> None:
        super().__init__()
        self.norm = StackedLayerNorm(dim, len(generators))

    def forward(self, image: torch.Tensor, dropout: SeedDropout | None) -> torch.Tensor:
        return self.norm.affine(image).amax(dim=2)


@contextmanager
def max_pool_head() -> Iterator[HeadSpec]:
    """The max-pool probe, registered for the duration of the block."""
    spec = register_head(
        HeadSpec(
            name=NAME,
            display="Max - LP",
            learning_rate=LINEAR_PROBE_LR,
            features="image",
            pool=None,
            branch=f"{__name__}:MaxPoolBranch",
            forward_flops=probe_flops,
        )
    )
    try:
        yield spec
    finally:
        unregister_head(spec.name)
