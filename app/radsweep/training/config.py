"""What one training configuration is: method, head and hyperparameters (the paper's Appendix A)."""

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from radsweep.training.registry import HeadKind, HeadName, head_spec

__all__ = ["HeadKind", "HeadName", "Method", "Precision", "TrainConfig"]


class Method(StrEnum):
    """How a model uses the report: not at all, as input, alone, or as privileged information."""

    IMAGE = "image"
    TEACHER = "teacher"
    TEXT = "text"
    DISTILL = "distill"
    SELF_DISTILL = "self-distill"

    @property
    def needs_text(self) -> bool:
        return self in (Method.TEACHER, Method.TEXT, Method.DISTILL)

    @property
    def needs_image(self) -> bool:
        return self is not Method.TEXT

    @property
    def distils(self) -> bool:
        return self in (Method.DISTILL, Method.SELF_DISTILL)


class Precision(StrEnum):
    """How a head's matrix products are computed; weights, optimizer state, losses,
    probabilities and metrics stay float32 in every mode.

    ``fp32``: float32 throughout. ``tf32``: float32 tensors, but CUDA matrix products may round
    their inputs to TF32 (10-bit mantissa). ``bf16``: forward passes under bfloat16 autocast
    (TF32 for what autocast keeps in float32), float32 master weights.
    """

    FP32 = "fp32"
    TF32 = "tf32"
    BF16 = "bf16"

    @classmethod
    def on(cls, precision: "Precision | None", device_type: str, bf16: bool = True) -> "Precision":
        """What ``precision`` computes on a device of ``device_type``: None is the device's
        default (bf16 on a CUDA GPU that has it, ``bf16``; fp32 elsewhere); TF32 is a CUDA mode,
        so on other devices it computes fp32's numbers and is fp32."""
        if precision is None:
            return cls.BF16 if device_type == "cuda" and bf16 else cls.FP32
        chosen = cls(precision)  # a plain string too (model_copy does not validate)
        return cls.FP32 if chosen is cls.TF32 and device_type != "cuda" else chosen


class TrainConfig(BaseModel):
    """Hyperparameters of one configuration; every seed of it shares them."""

    model_config = ConfigDict(frozen=True)

    method: Method = Method.IMAGE
    head: HeadName = HeadKind.ATTENTION
    epochs: Annotated[int, Field(gt=0)] = 30
    batch_size: Annotated[int, Field(gt=0)] = 64
    lr: Annotated[float | None, Field(gt=0.0)] = Field(
        default=None, description="None: the head's own (1e-4 attention head, 1e-3 linear probes)."
    )
    tau: Annotated[float, Field(gt=0.0)] = Field(
        default=0.25, description="Temperature on the teacher's softmax (Eq. 1)."
    )
    lam: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.5, description="Imitation weight λ (Eq. 1): 0 = labels only, 1 = teacher only."
    )
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.2
    teacher_epochs: Annotated[int | None, Field(gt=0)] = Field(
        default=None, description="Epochs of the teacher of a distillation run; None = epochs."
    )
    normalise_tokens: bool = Field(
        default=True,
        description="LayerNorm (no affine) every frozen token once at load, as the paper's "
        "heads do. Turn off for inputs of a few features: it zeroes one feature, keeps only the "
        "sign of two and squashes three onto a circle.",
    )
    validate_every: Annotated[int, Field(gt=0)] = Field(
        default=1, description="Validate every k epochs (and always after the last one)."
    )
    validation_samples: Annotated[int | None, Field(gt=0)] = Field(
        default=None,
        description="Validate each seed on a fixed random subset of this many of its validation "
        "rows; None = all. A large held-out set then does not dominate the fit's time.",
    )
    precision: Precision | None = Field(
        default=None,
        description="Head arithmetic (see Precision); None = the device's default: bf16 on a "
        "CUDA GPU, fp32 on the CPU.",
    )
    seed_chunk: Annotated[int | None, Field(gt=0)] = Field(
        default=None,
        description="Seeds one step's forward and backward hold at once (training.chunks): how "
        "the work is cut to fit the device's memory, never what it computes, so no run key "
        "holds it. None: on a CUDA GPU as many as a measured step says fit, else all.",
    )

    @property
    def learning_rate(self) -> float:
        if self.lr is not None:
            return self.lr
        return head_spec(self.head).learning_rate

    def teacher_config(self) -> "TrainConfig":
        """The first stage of a distillation run: a report-aware or an image-only teacher."""
        method = Method.TEACHER if self.method is Method.DISTILL else Method.IMAGE
        return self.model_copy(
            update={"method": method, "epochs": self.teacher_epochs or self.epochs}
        )
