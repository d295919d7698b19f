"""A distillation run's trained teacher, kept so that runs sharing it do not train it again.

A teacher depends on everything of its run but τ and λ (which only shape how the student learns
from it), so a grid over τ and λ, the same configuration in another spec, or a screen and a
sweep share one. What a student needs of it is each seed's teacher **logits** at its best
selection epoch on that seed's training rows, at every view training draws: logits, not
tempered probabilities, because τ belongs to the student. What a run reports of it are its
curves: scored AUC, AUPRC and loss per epoch with the epoch chosen on the selection rows, and,
when those differ from the scored rows, the selection curves.

Rows are indices into the caller's ``TrainingData`` (a feature cache's rows), so a record means
something only for the same features and splits: whoever keeps it keys it by both, and ``check``
refuses a record whose seeds, rows, views or classes differ from the fit's.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from radsweep.errors import TrainingError
from radsweep.training.inputs import SeedSplit
from radsweep.training.results import Curves

_CURVES = ("auc", "auprc", "loss")


@dataclass(frozen=True, eq=False)
class TeacherRecord:
    """Every seed's trained teacher as a student reads it and as a run reports it."""

    seeds: tuple[int, ...]
    views: tuple[int, ...]  # the training views the logits cover, in order
    rows: tuple[np.ndarray, ...]  # per seed: its training rows, int64
    logits: tuple[np.ndarray, ...]  # per seed: [len(views), len(rows), classes] float32
    curves: Curves
    selection: Curves | None = None

    @property
    def classes(self) -> int:
        return int(self.logits[0].shape[-1])

    def check(self, splits: Sequence[SeedSplit], classes: int, views: Sequence[int]) -> None:
        """Raise unless this record is the teacher of exactly these seeds, rows and views."""
        seeds = tuple(split.seed for split in splits)
        if seeds != self.seeds or classes != self.classes or tuple(views) != self.views:
            raise TrainingError(
                f"the stored teacher (seeds {list(self.seeds)}, {self.classes} classes, views "
                f"{list(self.views)}) is not this run's (seeds {list(seeds)}, {classes} classes, "
                f"views {list(views)})",
                hint="train the teacher again: pass no teacher record",
            )
        for split, rows in zip(splits, self.rows, strict=True):
            if not np.array_equal(split.train, rows):
                raise TrainingError(
                    f"seed {split.seed}: the stored teacher was trained on other rows",
                    hint="train the teacher again: pass no teacher record",
                )

    def to_bytes(self) -> bytes:
        """The record as one ``.npz`` (plain arrays, no pickle): what a store keeps."""
        arrays: dict[str, np.ndarray] = {
            "seeds": np.asarray(self.seeds, np.int64),
            "views": np.asarray(self.views, np.int64),
            "counts": np.asarray([len(rows) for rows in self.rows], np.int64),
            "rows": np.concatenate(self.rows).astype(np.int64),
            "logits": np.concatenate(self.logits, axis=1).astype(np.float32),
            **_curve_arrays("curves", self.curves),
        }
        if self.selection is not None:
            arrays |= _curve_arrays("selection", self.selection)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]  # the stub reads ** as allow_pickle
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "TeacherRecord":
        with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
            arrays = {name: loaded[name] for name in loaded.files}
        bounds = np.cumsum(arrays["counts"])[:-1]
        return cls(
            seeds=tuple(int(seed) for seed in arrays["seeds"]),
            views=tuple(int(view) for view in arrays["views"]),
            rows=tuple(np.split(arrays["rows"], bounds)),
            logits=tuple(np.split(arrays["logits"], bounds, axis=1)),
            curves=_curves_of("curves", arrays),
            selection=_curves_of("selection", arrays) if "selection_auc" in arrays else None,
        )


def _curve_arrays(prefix: str, curves: Curves) -> dict[str, np.ndarray]:
    arrays = {f"{prefix}_{name}": getattr(curves, name) for name in _CURVES}
    if curves.selected is not None:
        arrays[f"{prefix}_selected"] = curves.selected
    return arrays


def _curves_of(prefix: str, arrays: dict[str, np.ndarray]) -> Curves:
    values = {name: arrays[f"{prefix}_{name}"] for name in _CURVES}
    return Curves(**values, selected=arrays.get(f"{prefix}_selected"))
