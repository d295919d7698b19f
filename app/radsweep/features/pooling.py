"""Spatial average pooling of a token grid, to shrink large caches (RAD-DINO: 1369 -> 361 tokens).

A ``window`` x ``window`` average over the row-major grid; a grid side that the window does not
divide gets a partial last window that averages only the real tokens (37 -> 19 for window 2),
so no zero padding dilutes the border. The CLS token is kept apart and never pooled.
"""

import math

import torch
import torch.nn.functional as F

from radsweep.errors import FeatureCacheError


def token_grid(count: int, declared: tuple[int, int] | None) -> tuple[int, int]:
    """The (rows, cols) grid of ``count`` tokens: the encoder's declared grid, else a square."""
    if declared is not None and declared[0] * declared[1] == count:
        return declared
    side = math.isqrt(count)
    if side * side != count:
        raise FeatureCacheError(
            f"cannot pool {count} tokens: the encoder declares grid {declared} and {count} is "
            "not a square",
            hint="extract without --pool",
        )
    return (side, side)


def pooled_grid(grid: tuple[int, int], window: int) -> tuple[int, int]:
    return (math.ceil(grid[0] / window), math.ceil(grid[1] / window))


def pool_tokens(tokens: torch.Tensor, grid: tuple[int, int], window: int) -> torch.Tensor:
    """``[N, rows*cols, D]`` to ``[N, ceil(rows/w)*ceil(cols/w), D]`` (unchanged for w = 1)."""
    if window == 1:
        return tokens
    batch, count, dim = tokens.shape
    rows, cols = grid
    if rows * cols != count:
        raise ValueError(f"{count} tokens do not form a {rows}x{cols} grid")
    image = tokens.transpose(1, 2).reshape(batch, dim, rows, cols)
    pooled = F.avg_pool2d(image, window, stride=window, ceil_mode=True)
    return pooled.flatten(2).transpose(1, 2)
