import pytest
import torch

from radsweep.errors import FeatureCacheError
from radsweep.features.pooling import pool_tokens, pooled_grid, token_grid


@pytest.mark.parametrize(
    ("grid", "window", "pooled"),
    [((37, 37), 2, (19, 19)), ((14, 14), 2, (7, 7)), ((7, 7), 3, (3, 3)), ((4, 6), 2, (2, 3))],
)
def test_pooled_shapes(grid: tuple[int, int], window: int, pooled: tuple[int, int]) -> None:
    tokens = torch.randn(2, grid[0] * grid[1], 5)
    out = pool_tokens(tokens, grid, window)
    assert pooled_grid(grid, window) == pooled
    assert out.shape == (2, pooled[0] * pooled[1], 5)


def test_partial_windows_average_only_real_tokens() -> None:
    tokens = torch.arange(9.0).reshape(1, 9, 1)  # 3x3 grid 0..8
    assert pool_tokens(tokens, (3, 3), 2).flatten().tolist() == [2.0, 3.5, 6.5, 8.0]


def test_window_one_is_the_identity() -> None:
    tokens = torch.randn(1, 16, 3)
    assert pool_tokens(tokens, (4, 4), 1) is tokens


def test_grid_is_the_declared_one_or_a_square() -> None:
    assert token_grid(24, (4, 6)) == (4, 6)
    assert token_grid(196, (7, 7)) == (14, 14)  # a variant with another input size
    with pytest.raises(FeatureCacheError, match="not a square"):
        token_grid(24, None)
