"""Training on cached features: heads, generalized distillation (Eq. 1), all seeds in one pass.

Usable without tasks or caches::

    from radsweep.training import TrainConfig, TrainingData, SeedSplit, fit
    result = fit(TrainingData(labels=y, classes=2, image=tokens), splits, TrainConfig(epochs=10))
    result.model.final_auc  # one AUC per seed

Names are imported on first use, so light modules (``training.config``) load without torch.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Curves": "radsweep.training.results",
    "FitResult": "radsweep.training.results",
    "HeadKind": "radsweep.training.config",
    "Method": "radsweep.training.config",
    "SeedSplit": "radsweep.training.inputs",
    "TrainConfig": "radsweep.training.config",
    "TrainingData": "radsweep.training.inputs",
    "fit": "radsweep.training.engine",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'radsweep.training' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
