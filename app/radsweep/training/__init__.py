"""Training on cached features: heads, generalized distillation (Eq. 1), all seeds in one pass.

Usable without tasks or caches, on plain arrays. Tokens are ``[N, T, D]`` (or ``[V, N, T, D]``
with views); every seed trains on its own rows and validates on its own held-out rows::

    import numpy as np, torch
    from radsweep.training import SeedSplit, TrainConfig, TrainingData, fit
    from radsweep.training.losses import teacher_targets

    rng = np.random.default_rng(0)
    state = rng.standard_normal(600).astype(np.float32)          # privileged: known in training
    labels = torch.tensor((state + 0.8 * rng.standard_normal(600) > 0).astype(np.int64))
    image = torch.tensor(rng.standard_normal((600, 4, 16)), dtype=torch.float32)
    image[:, :, 0] += torch.tensor(state)[:, None]               # the image shows it, noisily
    splits = [SeedSplit(s, np.arange(0, 150), np.arange(150, 400)) for s in (0, 1, 2)]

    # 1. A privileged-only teacher: one feature, so token normalisation must be off.
    teacher = fit(TrainingData(labels, 2, image=torch.tensor(state)[:, None, None]), splits,
                  TrainConfig(epochs=40, lr=5e-2, normalise_tokens=False))
    logits = torch.tensor(teacher.predictor.probabilities(image=state[:, None, None])).log()
    soft = teacher_targets(logits[0], tau=0.25)                   # g^tau of seed 0's teacher

    # 2. An image-only student that imitates it (Eq. 1 with lambda = 0.5).
    student = fit(TrainingData(labels, 2, image=image, teacher_probabilities=soft), splits,
                  TrainConfig(method="distill", epochs=20, lr=1e-3, validate_every=5))
    student.model.final_auc                                       # validation AUC per seed

    # 3. Held-out rows no seed saw: probabilities [S, N, K] and per-seed metrics.
    held_out = student.predictor.evaluate(labels[400:], accuracy=True, image=image[400:])
    held_out.auc, held_out.accuracy

``TrainConfig`` options beyond the paper's: ``normalise_tokens`` (LayerNorm each frozen token at
load, the default; it zeroes a 1-feature input, so that is an error, and warns for a few
features), ``validate_every`` and ``validation_samples`` (validation every k epochs, or on a
fixed subset, so a large held-out set does not dominate the fit's time). Without
``teacher_probabilities`` a distilling method trains its own teacher: image + report for
``distill``, image-only for ``self-distill``. Heads are a catalogue (``training.registry``):
``register_head(HeadSpec(...))`` adds one.

Names are imported on first use, so light modules (``training.config``) load without torch.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names __getattr__ imports on first use, for type checkers and editors
    from radsweep.training.config import HeadKind, Method, TrainConfig
    from radsweep.training.engine import Predictor, fit
    from radsweep.training.inputs import SeedSplit, TrainingData
    from radsweep.training.registry import HeadSpec, register_head
    from radsweep.training.results import Curves, Evaluation, FitResult

_EXPORTS = {
    "Curves": "radsweep.training.results",
    "Evaluation": "radsweep.training.results",
    "Predictor": "radsweep.training.engine",
    "FitResult": "radsweep.training.results",
    "HeadKind": "radsweep.training.config",
    "HeadSpec": "radsweep.training.registry",
    "Method": "radsweep.training.config",
    "SeedSplit": "radsweep.training.inputs",
    "TrainConfig": "radsweep.training.config",
    "TrainingData": "radsweep.training.inputs",
    "fit": "radsweep.training.engine",
    "register_head": "radsweep.training.registry",
}

__all__ = [
    "Curves",
    "Evaluation",
    "FitResult",
    "HeadKind",
    "HeadSpec",
    "Method",
    "Predictor",
    "SeedSplit",
    "TrainConfig",
    "TrainingData",
    "fit",
    "register_head",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'radsweep.training' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
