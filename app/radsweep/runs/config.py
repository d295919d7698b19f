"""``RunConfig``: one configuration of the study, the unit of one W&B run.

A run trains every seed of one (task, backbone, method, head, fraction, τ, λ, text encoder) in one
vectorized pass. Unset values take their defaults from one place, the encoder catalogue
(``radsweep.encoders.pretrained``): epochs and learning rate from the backbone's recommended
training (the light encoders' 20 epochs at 1e-3), else the paper's (the task's table of epochs, the
head's rate); τ from the task; the text encoder from the backbone's family (MiniLM sentences for
pixel patches, the paper's BioViL-T BERT otherwise). The resolved config, plus the feature-cache
keys it read, hashes to the run key that makes results idempotent.

``scoring`` says which rows the run's numbers come from: ``held-out`` (the default) scores a test
split that selected nothing, ``validation`` the rows that also chose the teacher's epoch. The
canonical form leaves ``validation`` out, so runs stored before the field existed keep their keys
and read back (``from_stored``) as what they are: validation-scored.

``teacher_epochs`` lets a distillation run's teacher (report-aware or, for self-distillation,
image-only) train longer than its student: a teacher that reads a report on few rows can need
more steps to converge than an image head. Unset, the teacher trains the run's epochs; the
canonical form then leaves it out, so runs stored before the field keep their keys.

``precision`` is how the heads compute (``training.config.Precision``). Unset, it is the default
of the device the run resolves for (bf16 on a CUDA GPU, fp32 elsewhere), and the resolved config
names the precision that ran, so it is in the run key exactly where results can differ: a bf16
run never answers for an fp32 one. tf32 off CUDA computes fp32's numbers, so it resolves to fp32
there. The canonical form leaves ``fp32`` out, like ``scoring``: every run stored before the field
existed was fp32 and keeps its key.
"""

import hashlib
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from radsweep.devices import resolve_device
from radsweep.encoders.pretrained import (
    PAPER_TEXT_ENCODER,
    Training,
    default_max_length,
    default_text_encoder,
    recommended_training,
)
from radsweep.tasks.spec import Scoring, TaskSpec
from radsweep.training.config import HeadKind, HeadName, Method, Precision, TrainConfig
from radsweep.training.registry import check_text_head

DEFAULT_SEEDS = (0, 1, 2, 3, 4)
DEFAULT_TEXT_ENCODER = PAPER_TEXT_ENCODER  # the paper's BioViL-T BERT (the paper's backbones')
DEFAULT_LAMBDA = 0.5  # the paper does not state its λ
DEFAULT_BATCH_SIZE = 64  # the paper's encoders' (their catalogue entries name none)
MAX_SEEDS = 100  # seeds train side by side in one pass: memory grows with their number
MAX_SEED = 2**31 - 1  # seeds are SQLite integers and seed NumPy/torch generators
STUDENT_FIELDS = ("tau", "lam")  # what students of one teacher trained in one pass may differ in


class RunConfig(BaseModel):
    """What one run trains, and on which cached features."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    backbone: str | None = Field(default=None, description="Image encoder; None for text-only.")
    method: Method = Method.IMAGE
    head: HeadName = HeadKind.ATTENTION
    fraction: Annotated[float, Field(gt=0.0, le=1.0)]
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    tau: Annotated[float | None, Field(gt=0.0, allow_inf_nan=False)] = None
    lam: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    text_encoder: str | None = Field(
        default=DEFAULT_TEXT_ENCODER,
        description="Text encoder; unset: the backbone's family's (catalogue), None: none.",
    )
    epochs: Annotated[int | None, Field(gt=0)] = None
    teacher_epochs: Annotated[int | None, Field(gt=0)] = Field(
        default=None, description="Epochs of a distillation run's teacher; unset: the run's."
    )
    lr: Annotated[float | None, Field(gt=0.0, allow_inf_nan=False)] = None
    batch_size: Annotated[int | None, Field(gt=0)] = Field(
        default=None, description="Training batch size; unset: the encoder's (catalogue), else 64."
    )
    views: Annotated[int, Field(ge=0, le=64)] = 0
    view_seed: int = 0
    pool: Annotated[int, Field(ge=1)] = 1
    variant: str | None = None
    weights: str | None = None
    text_weights: str | None = None
    max_length: Annotated[int | None, Field(gt=0)] = None
    tiny: bool = False
    scoring: Scoring = Scoring.HELD_OUT
    precision: Precision | None = None

    @classmethod
    def from_stored(cls, data: str | dict[str, Any]) -> "RunConfig":
        """A config read back from a store, a queue or W&B: one written without ``scoring``
        (before held-out scoring, or canonical text of a validation-scored run) is
        validation-scored; one without ``precision`` (before the field, or canonical text of
        an fp32 run) is fp32."""
        values = json.loads(data) if isinstance(data, str) else dict(data)
        values.setdefault("scoring", Scoring.VALIDATION.value)
        values.setdefault("precision", Precision.FP32.value)
        return cls.model_validate(values)

    @model_validator(mode="before")
    @classmethod
    def _family_text_encoder(cls, values: Any) -> Any:
        """An unset text encoder is the backbone's family's: ``train --method distill`` and
        ``screen`` with the same backbone read the same reports the same way."""
        if isinstance(values, dict) and "text_encoder" not in values:
            return {**values, "text_encoder": default_text_encoder(values.get("backbone"))}
        return values

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: tuple[int, ...]) -> tuple[int, ...]:
        if not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct and not empty, got {list(seeds)}")
        if len(seeds) > MAX_SEEDS or min(seeds) < 0 or max(seeds) > MAX_SEED:
            raise ValueError(f"use at most {MAX_SEEDS} seeds, each from 0 to {MAX_SEED}")
        return tuple(sorted(seeds))

    @model_validator(mode="after")
    def _needs_backbone(self) -> "RunConfig":
        if self.method.needs_image and self.backbone is None:
            raise ValueError(f"method {self.method.value} needs a backbone")
        return self

    @model_validator(mode="after")
    def _needs_text_encoder(self) -> "RunConfig":
        if self.method.needs_text and self.text_encoder is None:
            raise ValueError(f"method {self.method.value} needs a text encoder")
        return self

    @model_validator(mode="after")
    def _text_head(self) -> "RunConfig":
        if self.method is Method.TEXT:
            check_text_head(self.head)
        return self

    def resolve(self, task: TaskSpec, device: str | None = None) -> "RunConfig":
        """Fill τ, λ and epochs from the task, the learning rate from the head, the batch size
        from the encoder's catalogue entry, the precision from the device the run will train on
        (``device``: as ``--device`` takes it; None: auto); name the task.

        Settings the method does not read become None, so a τ sweep over image-only runs, say,
        resolves to one configuration instead of several identical ones.
        """
        train = self.train_config(task)
        image, text, distils = self.method.needs_image, self.method.needs_text, self.method.distils
        return self.model_copy(
            update={
                "task": task.name,
                "epochs": train.epochs,
                "teacher_epochs": self._own_teacher_epochs(train.epochs),
                "lr": train.learning_rate,
                "batch_size": train.batch_size,
                "tau": train.tau if distils else None,
                "lam": train.lam if distils else None,
                "backbone": self.backbone if image else None,
                "variant": self.variant if image else None,
                "weights": self.weights if image else None,
                "views": self.views if image else 0,
                "view_seed": self.view_seed if image and self.views else 0,
                "pool": self.pool if image else 1,
                "head": self.head,
                "text_encoder": self.text_encoder if text else None,
                "text_weights": self.text_weights if text else None,
                "max_length": (self.max_length or default_max_length(self.text_encoder))
                if text
                else None,
                "precision": self._precision_on(device),
            }
        )

    def _own_teacher_epochs(self, epochs: int) -> int | None:
        """The teacher's epochs where a teacher trains and they differ from the run's (None
        otherwise: the same teacher has one resolved form, and one run key)."""
        if not self.method.distils or self.teacher_epochs in (None, epochs):
            return None
        return self.teacher_epochs

    def recommended(self) -> Training:
        """The catalogue's training settings for this run's encoders (what unset epochs and lr
        become before the task's table and the head's rate)."""
        backbone = self.backbone if self.method.needs_image else None
        return recommended_training(backbone, self.text_encoder)

    def default_batch_size(self) -> int:
        """What an unset batch size becomes: the encoders' catalogue entry's, else 64 (a
        resolved run names its batch size, so a run key never depends on this default)."""
        return self.recommended().batch_size or DEFAULT_BATCH_SIZE

    def _precision_on(self, device: str | None) -> Precision:
        """The precision this config computes in on ``device`` (looked up only when it matters:
        an unset precision, tf32 or bf16, which a GPU before Ampere lacks)."""
        if self.precision == Precision.FP32:
            return Precision.FP32
        from radsweep.training.precision import for_device  # torch: not for --help or listings

        return for_device(self.precision, resolve_device(device))

    def train_config(self, task: TaskSpec) -> TrainConfig:
        recommended = self.recommended()
        return TrainConfig(
            method=self.method,
            head=self.head,
            epochs=self.epochs or recommended.epochs or task.size(self.fraction).epochs,
            teacher_epochs=self.teacher_epochs,
            batch_size=self.batch_size or self.default_batch_size(),
            lr=self.lr or recommended.lr,
            tau=self.tau or task.default_tau,
            lam=DEFAULT_LAMBDA if self.lam is None else self.lam,
            precision=self.precision,
        )

    def image_only_baseline(self, task: TaskSpec) -> "RunConfig":
        """The image-only configuration a distillation run compares against (and records)."""
        return self.model_copy(update={"method": Method.IMAGE}).resolve(task)

    def student_group_key(self) -> str | None:
        """Runs with equal keys are students of one teacher on the same features, differing
        only in ``STUDENT_FIELDS`` (τ, λ): they can train in one pass (``runs.students``).
        None for methods without a teacher, which never group."""
        if not self.method.distils:
            return None
        return self.model_copy(update=dict.fromkeys(STUDENT_FIELDS)).canonical()

    def teacher_identity(self) -> str | None:
        """What this run's teacher depends on (everything but τ and λ, which only shape how the
        student learns from it); None for methods without a teacher. Runs with equal identities
        can share one trained teacher."""
        return self.student_group_key()

    def canonical(self) -> str:
        """Sorted-key JSON of every field: the same configuration always gives the same text.

        ``scoring`` is left out when it is ``validation``, ``precision`` when it is ``fp32`` and
        ``teacher_epochs`` when unset: those are the runs (and run keys) written before the
        fields existed."""
        values = self.model_dump(mode="json")
        if self.teacher_epochs is None:
            del values["teacher_epochs"]
        if self.scoring is Scoring.VALIDATION:
            del values["scoring"]
        if self.precision == Precision.FP32:
            del values["precision"]
        return json.dumps(values, sort_keys=True, separators=(",", ":"))


CONFIG_COLUMNS = tuple(RunConfig.model_fields)
"""RunConfig's fields: the config columns the results store and W&B frames hold, in order."""


def run_key(config: RunConfig, cache_keys: list[str]) -> str:
    """The results store's key: the resolved config plus the caches it read."""
    text = config.canonical() + "\x1f" + "\x1f".join(sorted(cache_keys))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
