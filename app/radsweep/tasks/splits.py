"""Per-seed splits: deterministic, patient-grouped, label-stratified, with nested training subsets.

Every random choice is a keyed hash of (task, seed, id), never Python's ``hash`` or a row position,
so a split is identical on every machine and for any row order of the manifest.

* Validation (random policy): patients are grouped into strata by their majority label; within
  each stratum they are taken in hash order until the stratum's validation share is reached, so no
  patient is on both sides and every class keeps its proportion.
* Held-out scoring: each seed's evaluation rows (the random validation set, or a fixed task's
  eval pool) are divided once more by patient, stratified the same way, into a *selection* half
  (what anything chosen on validation sees: the teacher's epoch) and a *test* half (what the
  reported numbers are computed on, and nothing was chosen on).
* Training subsets: the training pool is laid out once per seed in a stratified order (sample r of
  a class with n_c samples sits at (r + 1/2) / n_c, ties broken by hash), and the subset at a
  fraction is a prefix of it. Prefixes are nested by construction and hold each class within one
  sample or so of its proportion.
"""

import hashlib
import math
from dataclasses import dataclass
from typing import Required, TypedDict

import numpy as np
import pandas as pd

from radsweep.errors import SplitError
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.spec import FixedPoolSplit, RandomSplit, Scoring, TaskSpec

_SPLIT_COLUMNS = ("sample_id", "label", "patient_id")
TEST_SHARE = 0.5  # of each seed's evaluation patients: the rows that score, and select nothing


def keyed_uniform(namespace: str, ids: pd.Series) -> np.ndarray:
    """A reproducible number in [0, 1) per id, independent of every other id."""
    prefix = namespace.encode() + b"\x1f"
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(prefix + str(i).encode(), digest_size=8).digest())
            / 2.0**64
            for i in ids
        ],
        dtype=np.float64,
    )


class SubsetSummary(TypedDict):
    samples: int | None  # None: the pool is too small for this fraction
    class_counts: dict[str, int] | None


class TrainingSummary(SubsetSummary, total=False):
    fraction: Required[float]
    epochs: Required[int]
    note: str  # why a fraction has no subset


class SplitSummary(TypedDict):
    """``data splits --json``: one seed's training subsets and validation set."""

    task: str
    seed: int
    training: list[TrainingSummary]
    validation: SubsetSummary


@dataclass(frozen=True)
class Split:
    """One seed's validation set and the nested, stratified order of its training pool."""

    task: TaskSpec
    seed: int
    labels: pd.Series
    validation: np.ndarray
    training_order: np.ndarray
    test: np.ndarray  # the held-out half of ``validation``, patient-grouped and stratified

    @property
    def selection(self) -> np.ndarray:
        """The evaluation rows that model selection may read under held-out scoring."""
        return np.setdiff1d(self.validation, self.test)

    def evaluation(self, scoring: Scoring) -> tuple[np.ndarray, np.ndarray | None]:
        """(selection rows, scoring rows or None): the scoring rows are ``test`` under
        held-out scoring; under validation scoring the one validation set does both."""
        if scoring is Scoring.HELD_OUT:
            return self.selection, self.test
        return self.validation, None

    def training_size(self, fraction: float) -> int:
        """Samples at ``fraction``: of the task's reference count, or of the training pool."""
        pool = len(self.training_order)
        base = self.task.fraction_of or pool
        size = math.floor(fraction * base + 1e-9)
        if not 1 <= size <= pool:
            raise SplitError(
                f"fraction {fraction:g} of task {self.task.name} asks for {size} training samples "
                f"but the training pool holds {pool}",
                hint="choose a fraction whose sample count fits the pool",
            )
        return size

    def training(self, fraction: float) -> np.ndarray:
        """Sorted sample ids of the training subset at ``fraction`` (nested across fractions)."""
        return np.sort(self.training_order[: self.training_size(fraction)])

    def class_counts(self, sample_ids: np.ndarray) -> list[int]:
        counts = self.labels.loc[sample_ids].value_counts()
        return [int(counts.get(index, 0)) for index in range(self.task.n_classes)]

    def summary(self) -> "SplitSummary":
        """The split as data: each training fraction with its epochs, samples and class counts
        (samples and counts null, with the reason, where the pool is too small), then the
        validation set."""
        training: list[TrainingSummary] = []
        for size in self.task.sizes:
            row = TrainingSummary(
                fraction=size.fraction, epochs=size.epochs, samples=None, class_counts=None
            )
            try:
                row.update(self._subset(self.training(size.fraction)))
            except SplitError as error:
                row["note"] = error.one_line()
            training.append(row)
        return {
            "task": self.task.name,
            "seed": self.seed,
            "training": training,
            "validation": self._subset(self.validation),
        }

    def _subset(self, sample_ids: np.ndarray) -> "SubsetSummary":
        counts = self.class_counts(sample_ids)
        return SubsetSummary(
            samples=len(sample_ids), class_counts=dict(zip(self.task.classes, counts, strict=True))
        )


def _validation_patients(frame: pd.DataFrame, share: float, namespace: str) -> set[str]:
    counts = frame.groupby(["patient_id", "label"]).size().unstack(fill_value=0).sort_index(axis=1)
    # Majority label; idxmax takes the first (smallest) label on ties, so strata are well defined.
    patients = pd.DataFrame({"size": counts.sum(axis=1), "stratum": counts.idxmax(axis=1)})
    patients["key"] = keyed_uniform(namespace, patients.index.to_series())
    chosen: set[str] = set()
    for _, stratum in patients.sort_values(["key"]).groupby("stratum", sort=True):
        target = share * stratum["size"].sum()
        taken = 0
        for patient, size in stratum["size"].items():
            closer = abs(taken + size - target) < abs(taken - target)
            if not (closer or (taken == 0 and len(stratum) > 1)):
                break
            chosen.add(str(patient))
            taken += size
    return chosen


def _stratified_order(frame: pd.DataFrame, namespace: str) -> np.ndarray:
    ordered = frame.assign(key=keyed_uniform(namespace, frame["sample_id"])).sort_values("key")
    rank = ordered.groupby("label").cumcount()
    size = ordered.groupby("label")["label"].transform("size")
    ordered = ordered.assign(position=(rank + 0.5) / size)
    return ordered.sort_values(["position", "key"], kind="stable")["sample_id"].to_numpy()


def split_frame(frame: pd.DataFrame, task: TaskSpec, seed: int) -> Split:
    """Draw seed ``seed``'s split of a manifest table (columns sample_id, label, patient_id)."""
    frame = frame.loc[:, [*_SPLIT_COLUMNS, *(["pool"] if "pool" in frame else [])]]
    namespace = f"{task.name}\x1f{seed}"
    if isinstance(task.split, FixedPoolSplit):
        is_validation = frame["pool"].to_numpy() == "eval"
    else:
        assert isinstance(task.split, RandomSplit)
        chosen = _validation_patients(frame, task.split.validation_share, namespace + "\x1fval")
        is_validation = frame["patient_id"].isin(chosen).to_numpy()
    if is_validation.all() or not is_validation.any():
        raise SplitError(
            f"task {task.name} seed {seed}: the split leaves an empty training or validation set "
            f"({len(frame)} samples)",
            hint="add samples (and patients) to the manifest",
        )
    evaluation = frame[is_validation]
    tested = _validation_patients(evaluation, TEST_SHARE, namespace + "\x1ftest")
    return Split(
        task=task,
        seed=seed,
        labels=frame.set_index("sample_id")["label"],
        validation=np.sort(evaluation["sample_id"].to_numpy()),
        training_order=_stratified_order(frame[~is_validation], namespace + "\x1ftrain"),
        test=np.sort(evaluation["sample_id"].to_numpy()[evaluation["patient_id"].isin(tested)]),
    )


def make_split(manifest: Manifest, seed: int) -> Split:
    """Seed ``seed``'s split of a validated manifest."""
    return split_frame(manifest.frame, manifest.task, seed)
