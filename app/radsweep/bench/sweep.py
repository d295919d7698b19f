"""``radsweep bench sweep``: what a local sweep spends per run besides training.

The first runs of a spec go through the real local path in this process: the SQLite job queue
(enqueue, claim, heartbeat thread, ack), ``run_tracked`` (features opened from the cache, the
fit, the results store, a W&B run in offline mode). Features are extracted beforehand and not
timed. A stopwatch in the executor times its stages; the queue's share is the session's wall
time minus the runs'. Queue, store and W&B land in a temporary folder, not the user's.
"""

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import RunHooks, prepare
from radsweep.runs.outcome import RunOutcome
from radsweep.runs.stopwatch import Stopwatch
from radsweep.settings import Settings
from radsweep.sweeps.agents import run_tracked
from radsweep.sweeps.local import run_local
from radsweep.sweeps.queue import JobQueue, JobState, queue_path
from radsweep.sweeps.spec import SweepSpec, expand, load_spec, task_specs

OVERHEAD = ("queue", "tracking", "store")
STAGES = ("training", *OVERHEAD, "features", "other")
"""``features``: opening the cached features; ``other``: the executor's remaining bookkeeping."""


@dataclass(frozen=True)
class SweepBench:
    """Wall seconds per stage over ``runs`` runs; they add up to ``total``."""

    runs: int
    seconds: dict[str, float]
    total: float
    preparation: float  # feature extraction beforehand, not timed in the stages

    @property
    def overhead(self) -> float:
        return sum(self.seconds[stage] for stage in OVERHEAD)

    @property
    def ratio(self) -> float:
        """Per-run overhead (queue + tracking + store) as a share of training time."""
        return self.overhead / self.seconds["training"]

    def rows(self) -> list[tuple[str, float, float, float]]:
        """(component, total seconds, seconds per run, share of training) per stage."""
        training = self.seconds["training"]
        return [
            (f"{stage} (overhead)" if stage in OVERHEAD else stage, s, s / self.runs, s / training)
            for stage, s in self.seconds.items()
        ]

    def lines(self) -> list[str]:
        """The lines around the table: the run count first, the ratio last."""
        return [
            f"{self.runs} runs in {self.total:.1f} s "
            f"(features ready beforehand in {self.preparation:.1f} s, not counted)",
            f"ratio overhead/training time: {self.ratio:.3f}",
        ]

    def summary(self) -> dict[str, object]:
        return {
            "runs": self.runs,
            "total_seconds": self.total,
            "preparation_seconds": self.preparation,
            "seconds": self.seconds,
            "overhead": list(OVERHEAD),
            "ratios": {"overhead_over_training": self.ratio},
        }


def bench_configs(spec: SweepSpec, settings: Settings, runs: int) -> list[RunConfig]:
    """The spec's first ``runs`` configurations, in the order a local sweep runs them."""
    configs = expand(spec, task_specs(settings.data))[:runs]
    if not configs:
        raise SweepError(f"{spec.path}: no configurations to run")
    return configs


@contextmanager
def _scratch(settings: Settings) -> Iterator[Settings]:
    """The user's data and feature cache; a temporary results folder and W&B folders."""
    with tempfile.TemporaryDirectory(prefix="radsweep-bench-") as folder:
        scratch = Settings(
            home=Path(folder),
            data_dir=settings.data,
            cache_dir=settings.cache,
        )
        saved = {name: os.environ.get(name) for name in scratch.wandb_environment()}
        os.environ.update(scratch.wandb_environment())
        try:
            yield scratch
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def run_sweep_bench(
    spec_path: str | Path,
    settings: Settings,
    runs: int,
    *,
    device: str | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> SweepBench:
    """Run the spec's first ``runs`` configurations as a one-worker local sweep, timed."""
    spec = load_spec(spec_path)
    report(f"{spec.name}: features for the first {runs} runs (extracted if missing)")
    configs = bench_configs(spec, settings, runs)
    start = time.perf_counter()
    for config in configs:
        prepare(config, settings, device)  # extract what is missing: not part of the measure
    preparation = time.perf_counter() - start
    clock = Stopwatch()
    hooks = RunHooks(stopwatch=clock)

    def timed_run(config: RunConfig, settings: Settings, **options: Any) -> RunOutcome:
        with clock.timed("runs"):
            return run_tracked(config, settings, hooks=hooks, **options)

    name = f"bench-{spec.name}"
    with _scratch(settings) as scratch:
        start = time.perf_counter()
        counts = run_local(name, configs, scratch, device=device, runner=timed_run)
        total = time.perf_counter() - start
        if counts[JobState.DONE] != len(configs):
            with JobQueue(queue_path(scratch.results)) as queue:
                failure = queue.failures(name, limit=1)[0]
            raise SweepError(
                f"{spec.path}: {counts[JobState.FAILED]} of {len(configs)} runs failed, "
                f"the first with: {failure.error}"
            )
    return SweepBench(len(configs), _stages(clock.seconds, total), total, preparation)


def _stages(timed: dict[str, float], total: float) -> dict[str, float]:
    """The stopwatch's stages, plus the queue (the session around the runs: queue, leases,
    heartbeats) and the rest of each run's time."""
    inside = {stage: timed.get(stage, 0.0) for stage in ("training", "tracking", "store")}
    inside["features"] = timed.get("features", 0.0)
    other = timed.get("runs", 0.0)  # sections nest exclusively: the runs' untimed rest
    runs = other + sum(inside.values())
    seconds = {**inside, "queue": total - runs, "other": other}
    return {stage: seconds[stage] for stage in STAGES}
