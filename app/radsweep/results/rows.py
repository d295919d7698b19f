"""A fit as result rows: one row per (stage, seed) and one per (stage, seed, epoch).

The store writes these rows from a ``FitResult``; the W&B reader rebuilds the same per-seed rows
from logged curves, so both sources feed the report identical tables. Epochs are numbered from 1
here, as in W&B history and the curve artifacts (``Curves.best_epoch`` counts from 0).
"""

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from radsweep.training.results import Curves, FitResult

SEED_COLUMNS = (
    "stage",
    "seed",
    "n_train",
    "n_validation",
    "final_auc",
    "final_auprc",
    "best_auc",
    "best_auprc",
    "best_epoch",
    "selection_auc",
)
CURVE_COLUMNS = ("stage", "seed", "epoch", "auc", "auprc", "loss")


def stages(result: "FitResult") -> dict[str, "Curves"]:
    """``model`` (the trained model, the student for distillation) and ``teacher`` if any."""
    found = {"model": result.model}
    if result.teacher is not None:
        found["teacher"] = result.teacher
    return found


def _check_shapes(result: "FitResult") -> None:
    seeds = len(result.seeds)
    sizes = (len(result.train_sizes), len(result.validation_sizes))
    if sizes != (seeds, seeds):
        raise ValueError(f"{seeds} seeds but {sizes} training/validation sizes")
    for stage, curves in stages(result).items():
        shapes = {curves.auc.shape, curves.auprc.shape, curves.loss.shape}
        if len(shapes) != 1 or curves.auc.ndim != 2 or curves.auc.shape[0] != seeds:
            raise ValueError(f"{stage} curves must be [seeds, epochs] alike, got {shapes}")
    if result.selection is not None and result.selection.auc.shape != result.model.auc.shape:
        raise ValueError(f"selection curves {result.selection.auc.shape} are not the model's")


def _selection_auc(result: "FitResult", stage: str) -> "np.ndarray | None":
    """The model's final-epoch AUC on the selection rows, per seed (held-out scoring only): what
    a choice among runs may read without touching the rows that score them."""
    if stage != "model" or result.selection is None:
        return None
    return result.selection.final_auc


def seed_rows(result: "FitResult") -> list[dict[str, Any]]:
    """Final- and best-epoch metrics of every seed of every stage."""
    _check_shapes(result)
    rows = []
    for stage, curves in stages(result).items():
        best = curves.best_epoch
        selection = _selection_auc(result, stage)
        for index, seed in enumerate(result.seeds):
            rows.append(
                {
                    "stage": stage,
                    "seed": int(seed),
                    "n_train": int(result.train_sizes[index]),
                    "n_validation": int(result.validation_sizes[index]),
                    "final_auc": float(curves.final_auc[index]),
                    "final_auprc": float(curves.final_auprc[index]),
                    "best_auc": float(curves.best_auc[index]),
                    "best_auprc": float(curves.best_auprc[index]),
                    "best_epoch": int(best[index]) + 1,
                    "selection_auc": None if selection is None else float(selection[index]),
                }
            )
    return rows


def curve_rows(result: "FitResult") -> list[dict[str, Any]]:
    """Validation AUC/AUPRC and training loss of every seed after every epoch."""
    _check_shapes(result)
    return [
        {
            "stage": stage,
            "seed": int(seed),
            "epoch": epoch + 1,
            "auc": float(curves.auc[index, epoch]),
            "auprc": float(curves.auprc[index, epoch]),
            "loss": float(curves.loss[index, epoch]),
        }
        for stage, curves in stages(result).items()
        for index, seed in enumerate(result.seeds)
        for epoch in range(curves.auc.shape[1])
    ]


def seed_metrics_from_curves(
    curves: pd.DataFrame, logged: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per-seed rows read off long curves (``run_key`` + CURVE_COLUMNS), as ``seed_rows`` does.

    ``logged``: per (run_key, stage, seed) what curves do not hold, as a W&B summary keeps it:
    ``best_epoch`` (from 1; held-out scoring chose it on the selection rows) and
    ``selection_auc``. Where it names no best epoch, the best is the first with the highest
    AUC, as ``Curves.best_epoch`` without a selection. Training and validation sizes are not in
    curves and come out missing.
    """
    keys = ["run_key", "stage", "seed"]
    ordered = curves.dropna(subset=["auc"]).sort_values([*keys, "epoch"])
    final = ordered.groupby(keys).tail(1).set_index(keys)
    best = ordered.loc[ordered.groupby(keys)["auc"].idxmax()].set_index(keys)
    selection = pd.Series(float("nan"), index=final.index)
    if logged is not None and not logged.empty:
        chosen = logged.dropna(subset=["best_epoch"]).rename(columns={"best_epoch": "epoch"})
        at_chosen = ordered.merge(chosen[[*keys, "epoch"]], on=[*keys, "epoch"])
        best = at_chosen.set_index(keys).combine_first(best)
        selection = logged.set_index(keys)["selection_auc"].reindex(final.index)
    frame = pd.DataFrame(
        {
            "n_train": float("nan"),
            "n_validation": float("nan"),
            "final_auc": final["auc"],
            "final_auprc": final["auprc"],
            "best_auc": best["auc"],
            "best_auprc": best["auprc"],
            "best_epoch": best["epoch"].astype(int),
            "selection_auc": selection.astype(float),
        }
    )
    return frame.sort_index().reset_index()
