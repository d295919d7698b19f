"""``radsweep bench synth``: how much of generating the synthetic benchmark is drawing.

Drawing the radiographs alone and the whole build (images, reports, manifests) run on one core in
the same process, so their throughput ratio says what writing everything else costs.
"""

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from radsweep.tasks.synthetic import SynthConfig, synthesize
from radsweep.tasks.synthetic.cohort import sample_cohort
from radsweep.tasks.synthetic.radiograph import draw_radiograph

BUDGET_SECONDS_PER_2000 = 30.0  # the synthetic benchmark's default size must build in this


@contextmanager
def one_core() -> Iterator[None]:
    """Run the body on a single core (where the OS allows), then restore the affinity."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


@dataclass(frozen=True)
class SynthBench:
    """Wall seconds of drawing ``samples`` radiographs alone and of the end-to-end build."""

    samples: int
    drawing_seconds: float
    end_to_end_seconds: float

    @property
    def projected_seconds(self) -> float:
        """End-to-end seconds for 2,000 samples, at this run's throughput."""
        return self.end_to_end_seconds * 2000 / self.samples

    @property
    def ratio(self) -> float:
        """End-to-end over drawing-only throughput (1.0: writing costs nothing)."""
        return self.drawing_seconds / self.end_to_end_seconds

    def lines(self) -> list[str]:
        projected = self.projected_seconds
        return [
            f"drawing only : {self.samples / self.drawing_seconds:8.1f} images/s",
            f"end to end   : {self.samples / self.end_to_end_seconds:8.1f} images/s "
            "(images, reports, manifests)",
            f"2,000 samples: {projected:.1f} s projected on one core "
            f"(budget {BUDGET_SECONDS_PER_2000:.0f} s, "
            f"{BUDGET_SECONDS_PER_2000 / projected:.2f}x headroom)",
            f"ratio end-to-end/drawing throughput: {self.ratio:.3f}",
        ]

    def summary(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "drawing_images_per_second": self.samples / self.drawing_seconds,
            "end_to_end_images_per_second": self.samples / self.end_to_end_seconds,
            "projected_seconds_per_2000": self.projected_seconds,
            "budget_seconds_per_2000": BUDGET_SECONDS_PER_2000,
            "ratios": {"end_to_end_over_drawing": self.ratio},
        }


def run_synth_bench(samples: int) -> SynthBench:
    """Time drawing alone, then the whole build into a temporary folder, both on one core."""
    config = SynthConfig(samples=samples)
    studies = sample_cohort(config)
    with one_core(), tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        for study in studies:
            draw_radiograph(study, config)
        drawing = time.perf_counter() - start
        start = time.perf_counter()
        synthesize(config, Path(folder) / "bench")
        end_to_end = time.perf_counter() - start
    return SynthBench(samples, drawing, end_to_end)
