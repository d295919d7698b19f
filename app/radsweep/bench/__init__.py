"""The benchmarks behind ``radsweep bench``: each measures a hot path and a ratio in one run.

Every result answers ``lines()`` (what a person reads, the ratio last) and ``summary()`` (the same
numbers for scripts, the ratios under ``"ratios"``), so the command only picks one and prints it.
Ratios rather than absolute times, because both sides of a ratio share the machine's load.
"""

from typing import Protocol


class BenchResult(Protocol):
    """What every benchmark returns."""

    def lines(self) -> list[str]: ...

    def summary(self) -> dict[str, object]: ...
