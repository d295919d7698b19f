"""What a fit returns: per-epoch validation curves per seed, and the numbers read off them.

Figures and tables use the **final-epoch** metrics. The validation set is also the evaluation set
(the study has no separate test split), so picking each seed's best epoch on it would select on the
numbers being reported and bias small validation sets upwards; the paper chose epochs "such that all
models had time to converge". Best-epoch metrics are kept next to them for comparison, and the
teacher a student distils from is its best epoch, as the paper prescribes.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from radsweep.stats import Interval, t_interval
from radsweep.training.config import TrainConfig

if TYPE_CHECKING:
    from radsweep.training.engine import Predictor


@dataclass(frozen=True)
class Curves:
    """Validation AUC/AUPRC and training loss, ``[seeds, epochs]`` each."""

    auc: np.ndarray
    auprc: np.ndarray
    loss: np.ndarray

    @property
    def final_auc(self) -> np.ndarray:
        return self.auc[:, -1]

    @property
    def final_auprc(self) -> np.ndarray:
        return self.auprc[:, -1]

    @property
    def best_epoch(self) -> np.ndarray:
        """0-based epoch of each seed's highest validation AUC (the first on ties; epochs that
        were not validated, NaN, never count)."""
        return np.nanargmax(self.auc, axis=1)

    @property
    def best_auc(self) -> np.ndarray:
        return self.auc[np.arange(len(self.auc)), self.best_epoch]

    @property
    def best_auprc(self) -> np.ndarray:
        return self.auprc[np.arange(len(self.auprc)), self.best_epoch]


@dataclass(frozen=True)
class FitResult:
    """One configuration's seeds: the model's curves and, for distillation, the teacher's."""

    config: TrainConfig
    seeds: tuple[int, ...]
    train_sizes: tuple[int, ...]
    validation_sizes: tuple[int, ...]
    model: Curves
    teacher: Curves | None = None
    predictor: "Predictor | None" = field(default=None, compare=False, repr=False)

    def auc_interval(self, level: float = 0.95) -> Interval:
        """Mean final-epoch AUC across seeds with its t-interval."""
        return t_interval(self.model.final_auc, level)


@dataclass(frozen=True)
class Evaluation:
    """A trained model's scores on rows of the caller's choosing: ``probabilities``
    ``[S, N, K]`` and per seed ``auc``, ``auprc`` and (when asked) ``accuracy``."""

    probabilities: np.ndarray
    auc: np.ndarray
    auprc: np.ndarray
    accuracy: np.ndarray | None = None
