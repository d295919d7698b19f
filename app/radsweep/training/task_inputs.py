"""From a task's manifest and per-seed splits to the engine's plain inputs.

Feature arrays come in some sample order (the cache's); this module maps each seed's training
subset, validation (selection) set and, under held-out scoring, test set to rows of those
arrays. Samples the arrays lack (images excluded as
unreadable at extraction) are left out of every split, and counted so callers can say so.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from radsweep.errors import TrainingError
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.splits import Scoring, make_split
from radsweep.training.inputs import SeedSplit


@dataclass(frozen=True)
class TaskRows:
    """Labels in array order, each seed's rows, and how many manifest samples had no features."""

    labels: torch.Tensor
    splits: list[SeedSplit]
    missing: int


def task_rows(
    manifest: Manifest,
    seeds: Sequence[int],
    fraction: float,
    sample_ids: Sequence[str],
    usable: np.ndarray | None = None,
    scoring: Scoring = Scoring.HELD_OUT,
) -> TaskRows:
    """Seed splits at ``fraction`` as row indices into arrays ordered like ``sample_ids``.

    ``usable`` (bool per row, default all) marks rows whose features exist; the others are left
    out of every split. Under held-out scoring each split's validation rows are its selection
    half and its test rows the other half (``Split.evaluation``).
    """
    index = pd.Index(sample_ids)
    labels = manifest.frame.set_index("sample_id")["label"].reindex(index)
    if labels.isna().any():
        raise TrainingError(
            "the feature arrays hold samples that are not in the task's manifest",
            hint="extract the features again for this manifest",
        )
    splits = []
    for seed in seeds:
        split = make_split(manifest, seed)
        selection, test = split.evaluation(scoring)
        splits.append(
            SeedSplit(
                seed=seed,
                train=_rows(index, split.training(fraction), usable),
                validation=_rows(index, selection, usable),
                test=None if test is None else _rows(index, test, usable),
            )
        )
    return TaskRows(
        labels=torch.tensor(labels.to_numpy(dtype=np.int64)),
        splits=splits,
        missing=len(manifest.frame) - (len(index) if usable is None else int(usable.sum())),
    )


def _rows(index: pd.Index, sample_ids: np.ndarray, usable: np.ndarray | None) -> np.ndarray:
    rows = index.get_indexer(pd.Index(sample_ids))
    rows = rows[rows >= 0]
    return np.sort(rows if usable is None else rows[usable[rows]])
