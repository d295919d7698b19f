"""What a fit returns: per-epoch curves per seed, and the numbers read off them.

Figures and tables use the **final-epoch** metrics. The teacher a student distils from is its
best validation-AUC epoch, as the paper prescribes. When the seeds' splits carry test rows
(held-out scoring, the default of runs) the curves a fit returns are scored on those rows, which
selected nothing; the epoch chosen on validation is ``Curves.selected`` (the teacher's is the one
it taught from, and every best-epoch metric is read there), and the validation curves are kept
as ``FitResult.selection``. Without test rows the validation set both selects and scores, as in
the paper, so a best-epoch metric would select on the numbers being reported: final-epoch
metrics remain the reported ones.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from radsweep.stats import Interval, t_interval
from radsweep.training.config import TrainConfig

if TYPE_CHECKING:
    from radsweep.training.engine import Predictor
    from radsweep.training.teacher import TeacherRecord


@dataclass(frozen=True)
class Curves:
    """Scored AUC/AUPRC and training loss, ``[seeds, epochs]`` each; ``selected``, when the
    curves are scored on rows other than the selection rows, each seed's epoch chosen there."""

    auc: np.ndarray
    auprc: np.ndarray
    loss: np.ndarray
    selected: np.ndarray | None = None

    @property
    def final_auc(self) -> np.ndarray:
        return self.auc[:, -1]

    @property
    def final_auprc(self) -> np.ndarray:
        return self.auprc[:, -1]

    @property
    def best_epoch(self) -> np.ndarray:
        """0-based epoch each seed's model is judged best at: on held-out curves the one chosen
        on the selection rows (``selected``; a teacher's is the one it taught from), so the best
        metrics read the test rows at an epoch they did not choose. Without it, the highest AUC
        on these curves' rows (the first on ties; epochs not validated, NaN, never count): the
        paper's protocol, where one validation set both selects and scores."""
        if self.selected is not None:
            return np.asarray(self.selected, dtype=int)
        return np.nanargmax(self.auc, axis=1)

    @property
    def best_auc(self) -> np.ndarray:
        return self.auc[np.arange(len(self.auc)), self.best_epoch]

    @property
    def best_auprc(self) -> np.ndarray:
        return self.auprc[np.arange(len(self.auprc)), self.best_epoch]


@dataclass(frozen=True)
class FitResult:
    """One configuration's seeds: the model's curves and, for distillation, the teacher's.

    ``validation_sizes`` count the rows the curves are scored on (the test rows under held-out
    scoring); ``selection`` holds the model's curves on the selection rows when those differ.
    ``teacher_record``, for distillation, is the teacher the student learned from (trained in
    this fit or given to it), for a caller to keep and give to the next fit that shares it.
    ``seed_chunks``: per stage this fit trained (``model``, ``teacher``, ``student``), the seeds
    one step's slice held, in order (``SeedChunks.ran``: ``(5, 2)`` halved from 5 to 2 when
    memory ran out); a grid's student stage counts students x seeds members. How the work was
    cut, never what it computed: not compared.
    """

    config: TrainConfig
    seeds: tuple[int, ...]
    train_sizes: tuple[int, ...]
    validation_sizes: tuple[int, ...]
    model: Curves
    teacher: Curves | None = None
    selection: Curves | None = None
    predictor: "Predictor | None" = field(default=None, compare=False, repr=False)
    teacher_record: "TeacherRecord | None" = field(default=None, compare=False, repr=False)
    seed_chunks: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False)

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
