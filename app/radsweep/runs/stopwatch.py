"""Wall time per stage of a run, for ``radsweep bench sweep`` (no cost when nobody measures)."""

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    """Seconds per stage, summed over every timed section (``time.perf_counter``).

    Sections nest exclusively: time spent in an inner section counts for the inner stage only
    (W&B logging an epoch inside training is tracking, not training), so the stages add up to
    the outermost sections' wall time. One thread times at a time.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._inner: list[float] = []  # per open section: seconds its inner sections took

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            inner = self._inner.pop()
            self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed - inner
            if self._inner:
                self._inner[-1] += elapsed
