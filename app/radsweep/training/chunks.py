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
so no seed's step is ever half applied; the sizes that ran are kept (``SeedChunks.ran``) for the
run's record. A benchmark, whose ratios mean something only at the size it asked for, takes
chunks that never halve (``halves=False``): their out-of-memory error reaches it unchanged.

What the probe measures (``engine._probe_memory``): the state every seed keeps from the first
step on, read after one full step of one seed (parameters, gradients, and the Adam moments, which
``StackedAdam`` allocates when it is built, not lazily at its first step as ``torch.optim.Adam``
does); the peak of that step's forward and backward or of one validation chunk, per seed in a
slice; and the peak of the Adam update, which runs over every seed at once after the slices'
activations are freed, so no chunk size makes it smaller (``seeds_per_chunk``'s ``update``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import torch

from radsweep.errors import TrainingError

T = TypeVar("T")

# Of the free memory a measurement found: allocator fragmentation and what one probe step did not
# see (the best-epoch copy, the epoch's batch plan) take the rest.
SAFETY = 0.9


def seeds_per_chunk(
    seeds: int,
    resident: float,
    step: float,
    free: float,
    safety: float = SAFETY,
    update: float = 0.0,
) -> int:
    """How many of ``seeds`` can run one step at once in ``free`` bytes: every seed's
    ``resident`` bytes (parameters, gradients, Adam moments) stay, ``step`` bytes of activations
    per seed come and go, and the Adam update then takes ``update`` bytes per seed, all seeds at
    once. 0 when not even one seed's step, or the update of all seeds, fits."""
    room = free * safety - seeds * resident
    if room <= 0 or seeds * update > room:
        return 0
    if step <= 0:
        return seeds
    return max(0, min(seeds, int(room // step)))


@dataclass
class SeedChunks:
    """How many seeds one slice holds; it halves, for the rest of the stage, when a slice runs
    out of memory (unless not ``halves``: the error is then raised as it came). ``ran``: the
    sizes that completed a slice, in order (``[5, 2]``: 5 seeds a slice, later halved to 2)."""

    size: int
    halves: bool = field(default=True, compare=False)
    ran: list[int] = field(default_factory=list, compare=False)

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
            except torch.OutOfMemoryError as error:
                if not self.halves:
                    raise
                if self.size == 1:
                    raise TrainingError(
                        "one seed's training step does not fit the GPU's memory",
                        hint="lower --batch-size, use fewer views or tokens (--pool), or train "
                        "on a GPU with more memory",
                    ) from error
                self.size = max(1, min(self.size, part.stop - part.start) // 2)
                if torch.cuda.is_initialized():  # the failed slice's blocks, now free, to CUDA
                    torch.cuda.empty_cache()
                continue
            if not self.ran or self.ran[-1] != self.size:
                self.ran.append(self.size)
            start = part.stop
        return done

    @staticmethod
    def whole(part: slice, seeds: int) -> bool:
        """Whether ``part`` holds every seed (the model then runs as it is, unsliced)."""
        return part.start == 0 and part.stop == seeds
