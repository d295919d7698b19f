"""``RunConfig``: one configuration of the study, the unit of one W&B run.

A run trains every seed of one (task, backbone, method, head, fraction, τ, λ, text encoder) in one
vectorized pass. Unset values (τ, epochs, learning rate) take the task's or the paper's defaults
when the run is resolved against its task; the resolved config, plus the feature-cache keys it
read, hashes to the run key that makes results idempotent.
"""

import hashlib
import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from radsweep.tasks.spec import TaskSpec
from radsweep.training.config import HeadKind, HeadName, Method, TrainConfig

DEFAULT_SEEDS = (0, 1, 2, 3, 4)
DEFAULT_TEXT_ENCODER = "biovil-t"  # the paper's BioViL-T BERT
DEFAULT_LAMBDA = 0.5  # the paper does not state its λ
MAX_SEEDS = 100  # seeds train side by side in one pass: memory grows with their number
MAX_SEED = 2**31 - 1  # seeds are SQLite integers and seed NumPy/torch generators


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
    text_encoder: str | None = DEFAULT_TEXT_ENCODER
    epochs: Annotated[int | None, Field(gt=0)] = None
    lr: Annotated[float | None, Field(gt=0.0, allow_inf_nan=False)] = None
    batch_size: Annotated[int, Field(gt=0)] = 64
    views: Annotated[int, Field(ge=0, le=64)] = 0
    view_seed: int = 0
    pool: Annotated[int, Field(ge=1)] = 1
    variant: str | None = None
    weights: str | None = None
    text_weights: str | None = None
    max_length: Annotated[int | None, Field(gt=0)] = None
    tiny: bool = False

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

    def resolve(self, task: TaskSpec) -> "RunConfig":
        """Fill τ, λ and epochs from the task, the learning rate from the head; name the task.

        Settings the method does not read become None, so a τ sweep over image-only runs, say,
        resolves to one configuration instead of several identical ones.
        """
        train = self.train_config(task)
        image, text, distils = self.method.needs_image, self.method.needs_text, self.method.distils
        return self.model_copy(
            update={
                "task": task.name,
                "epochs": train.epochs,
                "lr": train.learning_rate,
                "tau": train.tau if distils else None,
                "lam": train.lam if distils else None,
                "backbone": self.backbone if image else None,
                "variant": self.variant if image else None,
                "weights": self.weights if image else None,
                "views": self.views if image else 0,
                "view_seed": self.view_seed if image and self.views else 0,
                "pool": self.pool if image else 1,
                "head": self.head if image else HeadKind.ATTENTION,
                "text_encoder": self.text_encoder if text else None,
                "text_weights": self.text_weights if text else None,
                "max_length": self.max_length if text else None,
            }
        )

    def train_config(self, task: TaskSpec) -> TrainConfig:
        return TrainConfig(
            method=self.method,
            head=self.head,
            epochs=self.epochs or task.size(self.fraction).epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            tau=self.tau or task.default_tau,
            lam=DEFAULT_LAMBDA if self.lam is None else self.lam,
        )

    def image_only_baseline(self, task: TaskSpec) -> "RunConfig":
        """The image-only configuration a distillation run compares against (and records)."""
        return self.model_copy(update={"method": Method.IMAGE}).resolve(task)

    def canonical(self) -> str:
        """Sorted-key JSON of every field: the same configuration always gives the same text."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def run_key(config: RunConfig, cache_keys: list[str]) -> str:
    """The results store's key: the resolved config plus the caches it read."""
    text = config.canonical() + "\x1f" + "\x1f".join(sorted(cache_keys))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
