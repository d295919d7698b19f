"""``radsweep bench students``: a 2 x 2 τ/λ grid trained in one pass vs one pass per student.

The grid is the demo spec's distillation run (its encoders: pixel patches and MiniLM sentences,
its seeds, epochs and fraction) at τ in {0.25, 1} and λ in {0.3, 0.7}. Separate passes are what
a grid cost before grouping: the first student trains the teacher, the other three read it
(``fit(..., teacher=...)``) and each trains its own student. The grouped pass trains the teacher
once and the four students together (``fit_students``). Features are opened from the cache
(extracted first if missing, not timed). Each round times grouped, separate, separate, grouped,
so a machine whose speed drifts slows both sides alike; the ratio is the median of the rounds'.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from radsweep.devices import resolve_device
from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import prepare, training_inputs
from radsweep.settings import Settings
from radsweep.sweeps.spec import expand, load_spec, task_specs
from radsweep.training import SeedSplit, TrainConfig, TrainingData, fit
from radsweep.training.students import fit_students

GRID = tuple((tau, lam) for tau in (0.25, 1.0) for lam in (0.3, 0.7))
TASK = "synth-prognostic"


@dataclass(frozen=True)
class StudentsBench:
    """One (grouped, separate) pair of seconds per round."""

    config: RunConfig
    rounds: tuple[tuple[float, float], ...]

    @property
    def grouped_seconds(self) -> float:
        return float(np.median([grouped for grouped, _ in self.rounds]))

    @property
    def separate_seconds(self) -> float:
        return float(np.median([separate for _, separate in self.rounds]))

    @property
    def speedup(self) -> float:
        """Median over rounds of separate / grouped time within the round."""
        return float(np.median([separate / grouped for grouped, separate in self.rounds]))

    def lines(self) -> list[str]:
        config = self.config
        return [
            f"{len(GRID)} students (τ x λ = {GRID}) of {config.task}, {config.backbone} + "
            f"{config.text_encoder}, {len(config.seeds)} seeds, {config.epochs} epochs",
            f"one pass per student {self.separate_seconds:.2f} s, "
            f"one grouped pass {self.grouped_seconds:.2f} s",
            f"ratio separate/grouped: {self.speedup:.2f}x",
        ]

    def summary(self) -> dict[str, object]:
        return {
            "task": self.config.task,
            "students": [{"tau": tau, "lam": lam} for tau, lam in GRID],
            "seeds": list(self.config.seeds),
            "epochs": self.config.epochs,
            "separate_seconds": self.separate_seconds,
            "grouped_seconds": self.grouped_seconds,
            "ratios": {"separate_over_grouped": self.speedup},
        }


def demo_distillation(settings: Settings, seeds: Sequence[int] | None = None) -> RunConfig:
    """The demo spec's distillation run of ``TASK`` (with ``seeds``, when given)."""
    configs = expand(load_spec("demo"), task_specs(settings.data))
    found = [c for c in configs if c.task == TASK and c.method.value == "distill"]
    if not found:
        raise SweepError(
            f"the demo spec has no distillation run of {TASK}",
            hint="build the synthetic benchmark first: radsweep demo (or radsweep synth)",
        )
    return found[0] if seeds is None else found[0].model_copy(update={"seeds": tuple(seeds)})


def _seconds(work: Callable[[], object], device: torch.device) -> float:
    start = time.perf_counter()
    work()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def run_students_bench(
    settings: Settings,
    *,
    seeds: Sequence[int] | None = None,
    rounds: int = 1,
    device: str | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> StudentsBench:
    """Time the demo grid's students in one pass against one pass each, ``rounds`` times."""
    torch.set_flush_denormal(True)
    config = demo_distillation(settings, seeds)
    report(f"{config.task}: features (extracted if missing, not timed)")
    prepared = prepare(config, settings, device)
    data, rows = training_inputs(prepared)
    train = prepared.config.train_config(prepared.manifest.task)
    configs = [train.model_copy(update={"tau": tau, "lam": lam}) for tau, lam in GRID]
    chosen = resolve_device(device)

    def grouped() -> float:
        return _seconds(lambda: fit_students(data, rows.splits, configs, device=chosen), chosen)

    def separate() -> float:
        return _seconds(lambda: _one_pass_each(data, rows.splits, configs, chosen), chosen)

    paired = []
    for index in range(rounds):
        first, second, third, fourth = grouped(), separate(), separate(), grouped()
        paired.append(((first + fourth) / 2, (second + third) / 2))
        report(f"round {index + 1}: grouped {paired[-1][0]:.2f} s, separate {paired[-1][1]:.2f} s")
    return StudentsBench(prepared.config, tuple(paired))


def _one_pass_each(
    data: TrainingData,
    splits: Sequence[SeedSplit],
    configs: Sequence[TrainConfig],
    device: torch.device,
) -> None:
    """The grid as runs trained it before grouping: the first trains the teacher, the others
    read it."""
    first = fit(data, splits, configs[0], device=device)
    for config in configs[1:]:
        fit(data, splits, config, device=device, teacher=first.teacher_record)
