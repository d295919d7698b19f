"""What a screen trains: a few configurations that answer the paper's three questions for a task.

1. How much each modality carries: text-only and image-only linear probes on the full training
   pool, every seed (the paper's Table 7 for this task; ``screen.probe``).
2. Headroom and 3. the paired control: at two small fractions, image-only, distillation (which
   trains the report-aware teacher first) and self-distillation, every seed.

The steps of 2 and 3 are ordinary ``RunConfig`` s, recorded in the results store under their run
keys, so a screen run twice trains nothing twice, and the sweep the screen writes reuses them.
"""

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from radsweep.errors import RadsweepError
from radsweep.runs.config import DEFAULT_SEEDS, RunConfig
from radsweep.tasks.spec import TaskSpec
from radsweep.training.config import HeadKind, HeadName, Method

LIGHT_BACKBONE = "pixel-patches"
LIGHT_TEXT_ENCODER = "minilm-sentences"
FULL_POOL = 1.0
SMALL_FRACTIONS = 2


class ScreenOptions(BaseModel):
    """What to screen and with which encoders and settings; unset values take the task's.

    The light encoders are the defaults: an answer in minutes on a CPU. Pass the encoders the
    sweep will use for an answer about them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    backbone: str = LIGHT_BACKBONE
    text_encoder: str = LIGHT_TEXT_ENCODER
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    fractions: tuple[float, ...] | None = Field(
        default=None, description="Small fractions of the control; None: the task's two smallest."
    )
    head: HeadName = HeadKind.ATTENTION
    epochs: Annotated[int | None, Field(gt=0)] = None
    lr: Annotated[float | None, Field(gt=0.0)] = None
    tau: Annotated[float | None, Field(gt=0.0)] = None
    lam: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    max_length: Annotated[int | None, Field(gt=0)] = None
    budget_minutes: Annotated[float | None, Field(gt=0.0)] = None
    tiny: bool = Field(default=False, description="Tiny random encoders (tests).")

    @field_validator("fractions")
    @classmethod
    def _fractions(cls, fractions: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if fractions is None:
            return None
        if not fractions or any(not 0 < value <= 1 for value in fractions):
            raise ValueError(f"fractions must lie in (0, 1], got {list(fractions)}")
        return tuple(sorted(set(fractions)))

    def run_config(self, method: Method, fraction: float, head: str) -> RunConfig:
        """One configuration with the screen's shared settings."""
        return RunConfig(
            task=self.task,
            backbone=self.backbone,
            text_encoder=self.text_encoder,
            method=method,
            head=head,
            fraction=fraction,
            seeds=self.seeds,
            epochs=self.epochs,
            lr=self.lr,
            tau=self.tau,
            lam=self.lam,
            max_length=self.max_length,
            tiny=self.tiny,
        )


@dataclass(frozen=True)
class Step:
    """One configuration of the screen and what it measures."""

    purpose: str
    config: RunConfig


def small_fractions(options: ScreenOptions, task: TaskSpec) -> tuple[float, ...]:
    """The control's fractions: the ones asked for, or the task's two smallest training sizes."""
    if options.fractions is not None:
        return options.fractions
    fractions = tuple(size.fraction for size in task.sizes if size.fraction < FULL_POOL)
    if not fractions:
        raise RadsweepError(
            f"task {task.name} lists no training size below the full pool",
            hint="pass --fractions, e.g. 0.05,0.1",
        )
    return fractions[:SMALL_FRACTIONS]


def features_config(options: ScreenOptions) -> RunConfig:
    """A configuration that reads both caches: preparing it extracts whatever is missing."""
    return options.run_config(Method.DISTILL, FULL_POOL, options.head)


def plan(options: ScreenOptions, task: TaskSpec) -> list[Step]:
    """The training steps in the order they run, fraction by fraction, so a screen cut short by
    its budget still has whole comparisons."""
    steps = []
    for fraction in small_fractions(options, task):
        for method in (Method.IMAGE, Method.DISTILL, Method.SELF_DISTILL):
            purpose = f"{method.value}, fraction {fraction:g}"
            steps.append(Step(purpose, options.run_config(method, fraction, options.head)))
    return steps
