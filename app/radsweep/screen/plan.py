"""What a screen trains: a few configurations that answer the paper's three questions for a task.

1. How much each modality carries: text-only and image-only linear probes on the full training
   pool, every seed (the paper's Table 7 for this task; ``screen.probe``).
2. Headroom and 3. the paired control: at two small fractions, image-only, distillation (which
   trains the report-aware teacher first) and self-distillation, every seed. The fractions are
   chosen by training-set size: the smallest of the task's table at which every seed trains on
   at least ``min_images`` images and ``min_per_class`` of each class (else the smallest
   fraction that reaches it); a fraction below that is not run, and the screen says why.

The steps of 2 and 3 are ordinary ``RunConfig`` s, recorded in the results store under their run
keys, so a screen run twice trains nothing twice, and the sweep the screen writes reuses them.
"""

import math
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from radsweep.encoders.pretrained import default_text_encoder
from radsweep.errors import SplitError
from radsweep.runs.config import DEFAULT_SEEDS, RunConfig
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.splits import Split, make_split
from radsweep.training.config import HeadKind, HeadName, Method

LIGHT_BACKBONE = "pixel-patches"
FULL_POOL = 1.0
SMALL_FRACTIONS = 2
MIN_IMAGES = 50  # below this an arm's AUC is mostly seed noise (the 9- and 19-image arms)
MIN_PER_CLASS = 10


class ScreenOptions(BaseModel):
    """What to screen and with which encoders and settings; unset values take the task's.

    The light backbone is the default: an answer in minutes on a CPU. The text encoder, epochs
    and learning rate default as ``RunConfig``'s do (the encoder catalogue's, for the light
    encoders MiniLM sentences, 20 epochs at 1e-3). Pass the encoders the sweep will use for an
    answer about them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    backbone: str = LIGHT_BACKBONE
    text_encoder: str = Field(default="", description="Unset: the backbone's family's.")
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    fractions: tuple[float, ...] | None = Field(
        default=None,
        description="Fractions of the control; None: the two smallest with enough images.",
    )
    min_images: Annotated[int, Field(ge=1)] = MIN_IMAGES
    min_per_class: Annotated[int, Field(ge=1)] = MIN_PER_CLASS
    head: HeadName = HeadKind.ATTENTION
    epochs: Annotated[int | None, Field(gt=0)] = None
    lr: Annotated[float | None, Field(gt=0.0)] = None
    tau: Annotated[float | None, Field(gt=0.0)] = None
    lam: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    max_length: Annotated[int | None, Field(gt=0)] = None
    budget_minutes: Annotated[float | None, Field(gt=0.0)] = None
    tiny: bool = Field(default=False, description="Tiny random encoders (tests).")

    @model_validator(mode="before")
    @classmethod
    def _family_text_encoder(cls, values: Any) -> Any:
        """The text encoder ``train`` would use with this backbone (the catalogue's)."""
        if isinstance(values, dict) and not values.get("text_encoder"):
            backbone = values.get("backbone") or LIGHT_BACKBONE
            return {**values, "text_encoder": default_text_encoder(backbone)}
        return values

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


@dataclass(frozen=True)
class ArmSize:
    """Training images at one fraction on the seed with the fewest, and per class on the seed
    with the fewest of that class (0 where the pool cannot hold the fraction)."""

    fraction: float
    images: int
    per_class: tuple[int, ...]


@dataclass(frozen=True)
class Fractions:
    """The control's fractions; one line for each fraction asked for that the screen cannot
    run (or one for the task, when no fraction can run); the table's fractions it skipped."""

    chosen: tuple[float, ...]
    cannot_run: tuple[str, ...] = ()
    skipped: tuple[ArmSize, ...] = ()


def _size(splits: list[Split], fraction: float) -> ArmSize:
    images, per_class = [], []
    for split in splits:
        try:
            subset = split.training(fraction)
        except SplitError:
            subset = np.array([], dtype=object)
        images.append(len(subset))
        per_class.append(split.class_counts(subset))
    return ArmSize(fraction, min(images), tuple(int(n) for n in np.min(per_class, axis=0)))


def _enough(size: ArmSize, options: ScreenOptions) -> bool:
    return size.images >= options.min_images and min(size.per_class) >= options.min_per_class


def _smallest(splits: list[Split], options: ScreenOptions) -> float | None:
    """The smallest fraction (rounded up to 0.01) at which every seed has enough images."""
    needed = []
    for split in splits:
        labels = split.labels.loc[split.training_order].to_numpy()
        counts = np.cumsum(np.eye(split.task.n_classes, dtype=int)[labels], axis=0)
        enough = (np.arange(1, len(labels) + 1) >= options.min_images) & (
            counts.min(axis=1) >= options.min_per_class
        )
        if not enough.any():
            return None
        base = split.task.fraction_of or len(labels)
        needed.append((int(np.argmax(enough)) + 1) / base)
    fraction = math.ceil(max(needed) * 100 - 1e-9) / 100
    return fraction if fraction <= FULL_POOL else None


def _refusal(size: ArmSize, options: ScreenOptions, classes: tuple[str, ...], fix: str) -> str:
    """One line: which arms cannot run, the numbers that stop them, and what to change."""
    fewest = int(np.argmin(size.per_class))
    where = (
        "any fraction (the full pool)"
        if size.fraction == FULL_POOL
        else f"fraction {size.fraction:g}"
    )
    return (
        f"cannot run the arms at {where}: {size.images} training images per "
        f"seed ({size.per_class[fewest]} of class {classes[fewest]!r}), below the minimum of "
        f"{options.min_images} images and {options.min_per_class} per class; {fix}"
    )


def choose_fractions(options: ScreenOptions, manifest: Manifest) -> Fractions:
    """The control's fractions by training-set size (the module's docstring says how)."""
    task = manifest.task
    splits = [make_split(manifest, seed) for seed in options.seeds]
    smallest = _smallest(splits, options)
    fix = (
        f"use fraction {smallest:g} or more" if smallest is not None else "add images to the task"
    ) + " (or lower --min-images / --min-per-class)"
    if options.fractions is not None:
        sizes = [_size(splits, fraction) for fraction in options.fractions]
        return Fractions(
            tuple(size.fraction for size in sizes if _enough(size, options)),
            tuple(
                _refusal(size, options, task.classes, fix)
                for size in sizes
                if not _enough(size, options)
            ),
        )
    listed = [_size(splits, size.fraction) for size in task.sizes if size.fraction < FULL_POOL]
    chosen = {size.fraction for size in listed if _enough(size, options)}
    if len(chosen) < SMALL_FRACTIONS and smallest is not None:
        chosen |= {smallest, min(2 * smallest, FULL_POOL)}
    skipped = tuple(size for size in listed if not _enough(size, options))
    if chosen:
        return Fractions(tuple(sorted(chosen)[:SMALL_FRACTIONS]), skipped=skipped)
    pool = _size(splits, FULL_POOL)
    return Fractions((), (_refusal(pool, options, task.classes, fix),), skipped)


def features_config(options: ScreenOptions) -> RunConfig:
    """A configuration that reads both caches: preparing it extracts whatever is missing."""
    return options.run_config(Method.DISTILL, FULL_POOL, options.head)


def plan(options: ScreenOptions, fractions: tuple[float, ...]) -> list[Step]:
    """The training steps in the order they run, fraction by fraction, so a screen cut short by
    its budget still has whole comparisons."""
    steps = []
    for fraction in fractions:
        for method in (Method.IMAGE, Method.DISTILL, Method.SELF_DISTILL):
            purpose = f"{method.value}, fraction {fraction:g}"
            steps.append(Step(purpose, options.run_config(method, fraction, options.head)))
    return steps
