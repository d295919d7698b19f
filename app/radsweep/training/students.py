"""Train the students of a τ/λ grid in one vectorized pass, as a fit trains its seeds.

Students that differ only in τ and λ share everything else: features, seeds, splits, epochs,
learning rate and the teacher. So they train as one stack of students x seeds members (the way
DINOv2's linear evaluation trains a whole grid of heads in one pass): member (student i, seed s)
draws its initialisation, batch order, views and dropout from generators derived from (seed s,
stage) alone, exactly what seed s of student i's own ``fit`` draws, and only its soft targets
(g^τ of the shared teacher's logits, at the student's τ) and its λ are its own. Each student's
result therefore equals its own ``fit`` (the tests check it), while the teacher is trained once,
the features are loaded once and every optimisation step serves the whole grid.
"""

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from radsweep.errors import TrainingError
from radsweep.training.config import TrainConfig
from radsweep.training.engine import (
    DeviceFeatures,
    EpochEvent,
    Progress,
    _replay,
    _result,
    _soft_targets,
    _Stage,
    _supplied_targets,
    _teacher_record,
    _train_stage,
    chunks_ran,
    prepare_fit,
)
from radsweep.training.heads import build_head
from radsweep.training.inputs import SeedSplit, TrainingData, check_inputs
from radsweep.training.precision import float32_matmuls
from radsweep.training.results import Curves, FitResult
from radsweep.training.teacher import TeacherRecord

STUDENT_FIELDS = ("tau", "lam")
"""The ``TrainConfig`` fields in which students trained together may differ."""


def check_students(configs: Sequence[TrainConfig]) -> None:
    """Raise unless ``configs`` are distilling students that differ only in τ and λ."""
    if not configs:
        raise TrainingError("no students to train")
    shared = [config.model_copy(update=dict.fromkeys(STUDENT_FIELDS)) for config in configs]
    if any(config != shared[0] for config in shared):
        raise TrainingError(
            "students trained in one pass must differ only in τ and λ",
            hint="fit the other configurations separately",
        )
    if not configs[0].method.distils:
        raise TrainingError(
            f"method {configs[0].method.value} has no teacher: its configurations are not students",
            hint="use fit for methods that do not distil",
        )


def fit_students(
    data: TrainingData,
    splits: Sequence[SeedSplit],
    configs: Sequence[TrainConfig],
    device: str | torch.device | None = None,
    progress: Sequence[Progress | None] | None = None,
    teacher: TeacherRecord | None = None,
) -> list[FitResult]:
    """``fit`` of every config in ``configs`` (students differing only in τ and λ), in one
    pass: one result per config, in order, each equal to that config's own ``fit``.

    The teacher is trained once (or read from ``teacher``, or ``data.teacher_probabilities``
    stand in for it, as in ``fit``). ``progress``, one listener per student, hears that
    teacher's epochs and its own student's (``[S]`` tensors, as from its own fit).
    """
    check_students(configs)
    check_inputs(data, splits, configs[0])
    if progress is not None and len(progress) != len(configs):
        raise TrainingError(f"{len(progress)} progress listeners for {len(configs)} students")
    data, splits, used, chosen, precision = prepare_fit(data, splits, configs[0], device, teacher)
    configs = [config.model_copy(update={"precision": precision}) for config in configs]
    listeners = _Listeners(progress or [None] * len(configs), len(splits))
    with float32_matmuls(precision, chosen):
        return _fit_students(data, splits, used, configs, chosen, listeners, teacher)


def _fit_students(
    data: TrainingData,
    splits: Sequence[SeedSplit],
    used: np.ndarray,
    configs: Sequence[TrainConfig],
    chosen: torch.device,
    listeners: "_Listeners",
    teacher: TeacherRecord | None,
) -> list[FitResult]:
    features, soft, teacher, trained = _soft_targets_of_members(
        data, splits, used, configs, chosen, listeners, teacher
    )
    members = [split for _ in configs for split in splits]
    lam = torch.tensor([config.lam for config in configs for _ in splits])
    stage = _train_stage(
        features, data, members, configs[0], "student", soft, progress=listeners.student, lam=lam
    )
    assert features.image is not None  # a student reads the image
    shape = (len(splits), int(features.image.shape[-1]), data.classes)
    chunks = chunks_ran(teacher=trained, student=stage)  # the student stage's: all members'
    return [
        _result(
            splits, config, data, _student(stage, index, shape, config), chosen, teacher, chunks
        )
        for index, config in enumerate(configs)
    ]


def _soft_targets_of_members(
    data: TrainingData,
    splits: Sequence[SeedSplit],
    used: np.ndarray,
    configs: Sequence[TrainConfig],
    chosen: torch.device,
    listeners: "_Listeners",
    teacher: TeacherRecord | None,
) -> tuple[DeviceFeatures, torch.Tensor, TeacherRecord | None, _Stage | None]:
    """The student's features, every member's soft targets ``[students x S, V, N, K]`` (each
    student's g^τ of the one teacher), that teacher (trained once here, given, or stood in
    for by ``data.teacher_probabilities``: then None) and its stage if trained here."""
    first = configs[0]
    if data.teacher_probabilities is not None:
        features = DeviceFeatures.load(data, first, chosen, text=False)
        targets = data.teacher_probabilities
        supplied = _supplied_targets(targets, len(splits), features.views, chosen)
        return features, torch.cat([supplied] * len(configs)), None, None
    trained = None
    if teacher is None:
        teacher_config = first.teacher_config()
        text = teacher_config.method.needs_text
        features = DeviceFeatures.load(data, teacher_config, chosen, text=text)
        trained = _train_stage(
            features,
            data,
            splits,
            teacher_config,
            "teacher",
            keep_best=True,
            progress=listeners.teacher,
        )
        teacher = _teacher_record(trained, features, splits, used, first)
        features = features.without_text()
    else:
        features = DeviceFeatures.load(data, first, chosen, text=False)
        _replay(teacher.curves, "teacher", listeners.teacher)
    position = np.full(int(used.max()) + 1, -1, np.int64)
    position[used] = np.arange(len(used))
    soft = [_soft_targets(teacher, features, position, config.tau) for config in configs]
    return features, torch.cat(soft), teacher, trained


def _student(stage: _Stage, index: int, shape: tuple[int, int, int], config: TrainConfig) -> _Stage:
    """Student ``index``'s own stage: its members' curves, and a model of its seeds alone (so
    its predictor and stored heads are what its own fit's would be); ``shape``: (seeds, image
    features, classes)."""
    seeds, image_dim, classes = shape
    members = slice(index * seeds, (index + 1) * seeds)
    state = {name: tensor[members].clone() for name, tensor in stage.model.state_dict().items()}
    generators = [torch.Generator() for _ in range(seeds)]  # their draws are overwritten
    model = build_head(config.method, config.head, image_dim, None, classes, generators)
    model.load_state_dict(state)
    device = next(stage.model.parameters()).device
    selection = None if stage.selection is None else _members(stage.selection, members)
    return _Stage(model.to(device), _members(stage.curves, members), None, selection)


def _members(curves: Curves, members: slice) -> Curves:
    selected = None if curves.selected is None else curves.selected[members]
    return Curves(curves.auc[members], curves.auprc[members], curves.loss[members], selected)


class _Listeners:
    """Each student's progress: the shared teacher's epochs, and its own members' slice of
    the student epochs (its seeds, as its own fit reports them)."""

    def __init__(self, progress: Sequence[Progress | None], seeds: int) -> None:
        self.progress, self.seeds = progress, seeds

    def teacher(self, event: EpochEvent) -> None:
        for listener in self.progress:
            if listener is not None:
                listener(event)

    def student(self, event: EpochEvent) -> None:
        for index, listener in enumerate(self.progress):
            if listener is None:
                continue
            members = slice(index * self.seeds, (index + 1) * self.seeds)
            sliced = {name: getattr(event, name)[members] for name in ("loss", "auc", "auprc")}
            listener(replace(event, **sliced))
