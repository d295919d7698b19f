"""The engine's inputs as plain tensors, and the checks that turn bad inputs into clear errors.

Nothing here knows about tasks or caches: any code that can produce token tensors, labels and
per-seed row indices can train (the feature cache is one such producer).
"""

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from radsweep.errors import TrainingError
from radsweep.training.config import TrainConfig
from radsweep.training.registry import head_spec, head_specs


@dataclass(frozen=True)
class TrainingData:
    """Everything the heads read, row-aligned: row ``i`` of every tensor is sample ``i``.

    ``image`` is ``[V, N, T, D]`` local tokens (view 0 the centre view, views 1.. augmented) or
    ``[N, T, D]`` for one view; ``image_cls`` ``[V, N, D]`` or ``[N, D]``; ``text`` ``[N, L, E]``
    with ``text_mask`` ``[N, L]`` (True = real token). ``teacher_probabilities`` ``[N, K]`` (or
    ``[S, N, K]``, one per seed) are soft targets from a teacher the caller trained: a
    distilling method then imitates them instead of training its own teacher.
    """

    labels: torch.Tensor
    classes: int
    image: torch.Tensor | None = None
    image_cls: torch.Tensor | None = None
    text: torch.Tensor | None = None
    text_mask: torch.Tensor | None = None
    class_names: tuple[str, ...] | None = None
    teacher_probabilities: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.image is not None and self.image.dim() == 3:
            object.__setattr__(self, "image", self.image.unsqueeze(0))
        if self.image_cls is not None and self.image_cls.dim() == 2:
            object.__setattr__(self, "image_cls", self.image_cls.unsqueeze(0))
        if self.text is not None and self.text_mask is None:
            mask = torch.ones(self.text.shape[:2], dtype=torch.bool)
            object.__setattr__(self, "text_mask", mask)

    @property
    def samples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def views(self) -> int:
        source = self.image if self.image is not None else self.image_cls
        return 1 if source is None else int(source.shape[0])

    def class_name(self, index: int) -> str:
        return self.class_names[index] if self.class_names else f"class {index}"


@dataclass(frozen=True)
class SeedSplit:
    """One seed's training and validation rows (indices into ``TrainingData``), and optionally
    its test rows: then validation only selects (the teacher's best epoch) and the reported
    curves are scored on ``test``, rows that selected nothing."""

    seed: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray | None = None

    @property
    def scored(self) -> np.ndarray:
        """The rows the reported numbers come from."""
        return self.validation if self.test is None else self.test


def _check_shapes(data: TrainingData) -> None:
    n = data.samples
    for name in ("image", "image_cls"):
        tensor = getattr(data, name)
        if tensor is not None and tensor.shape[1] != n:
            raise TrainingError(f"{name} holds {tensor.shape[1]} samples but labels hold {n}")
    if data.text is not None:
        assert data.text_mask is not None
        if data.text.shape[0] != n or data.text_mask.shape != data.text.shape[:2]:
            raise TrainingError(
                f"text tokens {tuple(data.text.shape)} and mask {tuple(data.text_mask.shape)} "
                f"do not match {n} samples"
            )
    if data.labels.numel() and not 0 <= int(data.labels.min()) <= int(data.labels.max()) < (
        data.classes
    ):
        raise TrainingError(f"labels must lie in 0..{data.classes - 1}")


def _check_teacher(data: TrainingData, splits: Sequence[SeedSplit], config: TrainConfig) -> None:
    targets = data.teacher_probabilities
    if targets is None:
        return
    if not config.method.distils:
        raise TrainingError(
            f"teacher probabilities were given but method {config.method.value} does not distil",
            hint="use method distill or self-distill, or drop the teacher probabilities",
        )
    expected = [(data.samples, data.classes), (len(splits), data.samples, data.classes)]
    if tuple(targets.shape) not in expected:
        raise TrainingError(
            f"teacher probabilities {tuple(targets.shape)} do not match {data.samples} samples "
            f"x {data.classes} classes (optionally per seed: {len(splits)} seeds first)"
        )
    if not (torch.isfinite(targets).all() and (targets >= 0).all()):
        raise TrainingError("teacher probabilities must be finite and non-negative")
    if not torch.allclose(targets.sum(-1), torch.ones(()), atol=1e-3):
        raise TrainingError(
            "teacher probabilities must sum to 1 over the classes",
            hint="pass softmax(teacher logits / tau) (radsweep.training.losses.teacher_targets)",
        )


def _reads_text(data: TrainingData, config: TrainConfig) -> bool:
    """Whether the method reads the reports itself (not when a caller's teacher stands in)."""
    return config.method.needs_text and data.teacher_probabilities is None


def _check_features(data: TrainingData, config: TrainConfig) -> None:
    if _reads_text(data, config) and data.text is None:
        raise TrainingError(
            f"method {config.method.value} reads the reports but no text features were given",
            hint="pass a text encoder (--text-encoder) whose report features are extracted",
        )
    if not config.method.needs_image:
        return
    spec = head_spec(config.head)
    if spec.reads_cls and data.image_cls is None:
        others = " or ".join(other.name for other in head_specs() if not other.reads_cls)
        raise TrainingError(
            f"head {spec.name} needs a CLS token but this backbone's features have none",
            hint=f"use --head {others}, or a ViT backbone",
        )
    if not spec.reads_cls and data.image is None:
        raise TrainingError("no image tokens were given for an image model")


def _check_split(data: TrainingData, split: SeedSplit) -> None:
    labels = data.labels.cpu().numpy()
    named = [("training", split.train), ("validation", split.validation)]
    named += [] if split.test is None else [("test", split.test)]
    for name, rows in named:
        if len(rows) == 0 or rows.min() < 0 or rows.max() >= data.samples:
            raise TrainingError(f"seed {split.seed}: {name} rows are empty or out of range")
    for (first, rows), (second, others) in itertools.combinations(named, 2):
        if np.intersect1d(rows, others).size:
            raise TrainingError(f"seed {split.seed}: {first} and {second} rows overlap")
    present = np.bincount(labels[split.train], minlength=data.classes)
    for index in np.flatnonzero(present == 0):
        raise TrainingError(
            f"seed {split.seed}: the training subset of {len(split.train)} samples has no "
            f"sample of {data.class_name(int(index))}",
            hint="use a larger training fraction",
        )
    for name, rows in named[1:]:
        if np.unique(labels[rows]).size < 2:
            raise TrainingError(
                f"seed {split.seed}: the {name} set holds a single class, so AUC is undefined",
                hint="add samples of every class to the validation pool",
            )


FEW_FEATURES = 8  # below this, token normalisation visibly distorts an input


def _check_normalisation(data: TrainingData, config: TrainConfig) -> None:
    """Token normalisation maps D features onto a (D - 2)-sphere: fatal for 1 or 2 features,
    a loss worth a warning for a few (3 features land on a circle)."""
    if not config.normalise_tokens:
        return
    image = head_spec(config.head).features
    read = [image] * config.method.needs_image + ["text"] * _reads_text(data, config)
    for name in read:
        tensor = getattr(data, name)
        features = None if tensor is None else int(tensor.shape[-1])
        if features is None or features >= FEW_FEATURES:
            continue
        if features <= 2:
            lost = "zero" if features == 1 else "its sign"
            raise TrainingError(
                f"{name} has {features} feature(s) per token: token normalisation reduces it "
                f"to {lost}",
                hint="pass TrainConfig(normalise_tokens=False) for inputs of a few features",
            )
        warnings.warn(
            f"{name} has {features} features per token: token normalisation keeps "
            f"{features - 2} of their {features} degrees of freedom (3 features land on a "
            "circle); pass TrainConfig(normalise_tokens=False) to keep them all",
            UserWarning,
            stacklevel=3,
        )


def check_inputs(data: TrainingData, splits: Sequence[SeedSplit], config: TrainConfig) -> None:
    """Raise a ``TrainingError`` that names the problem before any compute is spent."""
    if not splits:
        raise TrainingError("no seeds to train")
    seeds = [split.seed for split in splits]
    if len(set(seeds)) != len(seeds):
        raise TrainingError(f"seeds repeat: {seeds}")
    if len({split.test is None for split in splits}) > 1:
        raise TrainingError("either every seed has test rows or none has")
    _check_shapes(data)
    _check_features(data, config)
    _check_normalisation(data, config)
    _check_teacher(data, splits, config)
    for split in splits:
        _check_split(data, split)
