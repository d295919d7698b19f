"""Seeds in chunks: a step too large for the device's memory runs its seeds a slice at a time.

A vectorized step holds every seed's activations at once, so its memory grows with the seeds (a
RAD-DINO step at 5 seeds needs about 20 GiB). Seeds are independent by construction (their own
generators, parameter slices and Adam moments), so a step can run forward and backward one slice
of seeds after another into the same stacked gradients, then take its one Adam step: the numbers
are those of one pass (the tests check it). Only activations are chunked; the features, every
seed's parameters and optimizer state stay whole on the device.

A slice holds ``TrainConfig.seed_chunk`` seeds when set; otherwise, on CUDA, as many as a
measurement says fit (``seeds_per_chunk`` of one seed's probe step), and all of them elsewhere.
A slice that still runs out of memory is undone and retried at half the size, down to one seed,
so no seed's step is ever half applied.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch

from radsweep.errors import TrainingError

T = TypeVar("T")

# Of the free memory a measurement found: allocator fragmentation and what one probe step did not
# see (the best-epoch copy, the epoch's batch plan) take the rest.
SAFETY = 0.9


def seeds_per_chunk(
    seeds: int, resident: float, step: float, free: float, safety: float = SAFETY
) -> int:
    """How many of ``seeds`` can run one step at once in ``free`` bytes: every seed's
    ``resident`` bytes (parameters, gradients, Adam moments) stay, ``step`` bytes of activations
    per seed come and go. 0 when not even one seed's step fits."""
    room = free * safety - seeds * resident
    if room <= 0:
        return 0
    if step <= 0:
        return seeds
    return max(0, min(seeds, int(room // step)))


@dataclass
class SeedChunks:
    """How many seeds one slice holds; it halves, for the rest of the stage, when a slice runs
    out of memory."""

    size: int

    def run(self, seeds: int, work: Callable[[slice], T]) -> list[T]:
        """``work`` on consecutive slices of ``seeds``, in seed order. ``work`` must leave
        nothing behind when it raises ``torch.OutOfMemoryError``: the slice is then retried
        at half the size."""
        done: list[T] = []
        start = 0
        while start < seeds:
            part = slice(start, min(start + self.size, seeds))
            try:
                done.append(work(part))
                start = part.stop
                continue
            except torch.OutOfMemoryError as error:
                if self.size == 1:
                    raise TrainingError(
                        "one seed's training step does not fit the GPU's memory",
                        hint="lower --batch-size, use fewer views or tokens (--pool), or train "
                        "on a GPU with more memory",
                    ) from error
            self.size = max(1, min(self.size, part.stop - part.start) // 2)
            if torch.cuda.is_initialized():  # the failed slice's blocks, now free, back to CUDA
                torch.cuda.empty_cache()
        return done

    @staticmethod
    def whole(part: slice, seeds: int) -> bool:
        """Whether ``part`` holds every seed (the model then runs as it is, unsliced)."""
        return part.start == 0 and part.stop == seeds
