"""What running one configuration produced (shared by the executor and W&B tracking)."""

from dataclasses import dataclass, field

import numpy as np

from radsweep.runs.config import RunConfig
from radsweep.training import FitResult


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: its resolved config and key, and its results unless it was already stored
    (``skipped``) or stopped before it was (``stopped``)."""

    config: RunConfig
    key: str
    skipped: bool
    seconds: float
    cache_keys: tuple[str, ...]
    result: FitResult | None = None
    baseline_auc: np.ndarray | None = None  # image-only final AUC per seed (distillation)
    missing: int = 0
    meta: dict[str, object] = field(default_factory=dict)
    baseline_key: str | None = None  # the image-only run compared against (distillation)
    stopped: bool = False  # its orchestrator stopped it: nothing trained was stored

    @property
    def mean_auc(self) -> float | None:
        return None if self.result is None else float(self.result.model.final_auc.mean())
