"""Training on cached features: heads, generalized distillation (Eq. 1), all seeds in one pass.

Usable without tasks or caches::

    from radsweep.training import TrainConfig, TrainingData, SeedSplit, fit
    result = fit(TrainingData(labels=y, classes=2, image=tokens), splits, TrainConfig(epochs=10))
    result.model.final_auc  # one AUC per seed
"""

from radsweep.training.config import HeadKind, Method, TrainConfig
from radsweep.training.engine import fit
from radsweep.training.inputs import SeedSplit, TrainingData
from radsweep.training.results import Curves, FitResult

__all__ = [
    "Curves",
    "FitResult",
    "HeadKind",
    "Method",
    "SeedSplit",
    "TrainConfig",
    "TrainingData",
    "fit",
]
