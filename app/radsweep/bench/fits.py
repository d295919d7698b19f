"""A benchmark's seeds run in one slice, or the benchmark fails.

A run that runs out of memory halves its seed slice and goes on (``training.chunks``): the same
numbers, more steps. A benchmark must not: S seeds timed in halves are not the one vectorized
pass its ratio names (vectorized over sequential would be skewed toward 1), and its step time
would not be what the cost plan prices. So its trainers never halve, and running out of memory is
a one-line error naming the shape that did not fit.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from radsweep.errors import TrainingError
from radsweep.training.chunks import SeedChunks


def one_slice(seeds: int) -> SeedChunks:
    """Every one of ``seeds`` in one slice that never halves (out of memory is raised as is)."""
    return SeedChunks(seeds, halves=False)


@contextmanager
def fits(what: str, device: torch.device) -> Iterator[None]:
    """Turn running out of ``device``'s memory while measuring ``what`` into one line."""
    try:
        yield
    except torch.OutOfMemoryError as error:
        raise TrainingError(
            f"benchmark: {what} does not fit the memory of {device} in one pass (a benchmark "
            "never splits its seeds: its ratios would no longer mean one vectorized pass)",
            hint="measure fewer seeds (radsweep bench train --seeds 0-1), or on a device with "
            "more memory",
        ) from error
