"""The task contract: what a classification task is, independent of any data on disk."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TaskKind(StrEnum):
    """The study's task families (its Appendix B.1): how the label relates to the report."""

    DIAGNOSTIC = "diagnostic"
    PROGNOSTIC = "prognostic"
    AUXILIARY = "auxiliary"


class Averaging(StrEnum):
    """How AUC/AUPRC are averaged: plain binary, or one-vs-rest micro for multiclass."""

    BINARY = "binary"
    MICRO = "micro"


class FixedPoolSplit(BaseModel):
    """Training and evaluation pools fixed by the manifest's ``pool`` column (MIMIC 5x1200)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["fixed-pool"] = "fixed-pool"


class RandomSplit(BaseModel):
    """A fresh patient-grouped, stratified validation share drawn per seed."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["random"] = "random"
    validation_share: Annotated[float, Field(gt=0.0, lt=1.0)]


SplitPolicy = Annotated[FixedPoolSplit | RandomSplit, Field(discriminator="kind")]


class TrainingSize(BaseModel):
    """One point on the sample-efficiency axis: a fraction of the training pool and its epochs."""

    model_config = ConfigDict(frozen=True)

    fraction: Annotated[float, Field(gt=0.0, le=1.0)]
    epochs: Annotated[int, Field(gt=0)]
    study_samples: int | None = Field(
        default=None, description="The sample count the paper's table lists, for reference."
    )


class NominalSize(BaseModel):
    """A task's size as the paper builds it: what ``sweep plan`` prices before the task is
    built (a built task counts its manifest instead)."""

    model_config = ConfigDict(frozen=True)

    images: Annotated[int, Field(gt=0)]
    evaluation: Annotated[int | None, Field(ge=0)] = Field(
        default=None,
        description="Images of a fixed evaluation pool; None: the split's validation share.",
    )


class Scoring(StrEnum):
    """Which rows a run's reported numbers come from.

    ``held-out``: a test split that selected nothing (model selection reads the other half of
    the evaluation rows). ``validation``: the evaluation rows that also selected the teacher's
    epoch (how runs were scored before held-out scoring existed; stored runs without the field
    are these).
    """

    HELD_OUT = "held-out"
    VALIDATION = "validation"


class TaskSpec(BaseModel):
    """A classification task: classes, split policy, training sizes, distillation defaults."""

    model_config = ConfigDict(frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    title: str
    kind: TaskKind
    classes: Annotated[tuple[str, ...], Field(min_length=2)]
    split: SplitPolicy
    sizes: Annotated[tuple[TrainingSize, ...], Field(min_length=1)]
    default_tau: Annotated[float, Field(gt=0.0)] = 0.25
    balanced: bool = False
    requires_reports: bool = True
    fraction_of: Annotated[int | None, Field(gt=0)] = Field(
        default=None,
        description=(
            "The sample count that a fraction of 1.0 stands for; None means the per-seed "
            "training pool."
        ),
    )
    source: str = "user"
    description: str = ""
    nominal: NominalSize | None = None

    @model_validator(mode="after")
    def _check(self) -> "TaskSpec":
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"class names repeat: {list(self.classes)}")
        fractions = [size.fraction for size in self.sizes]
        if fractions != sorted(set(fractions)):
            raise ValueError(f"training fractions must be strictly increasing: {fractions}")
        return self

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def averaging(self) -> Averaging:
        return Averaging.BINARY if self.n_classes == 2 else Averaging.MICRO

    def size(self, fraction: float) -> TrainingSize:
        """The catalogue entry for ``fraction``; epochs for other fractions follow the nearest."""
        nearest = min(self.sizes, key=lambda size: abs(size.fraction - fraction))
        if abs(nearest.fraction - fraction) < 1e-12:
            return nearest
        return TrainingSize(fraction=fraction, epochs=nearest.epochs)
