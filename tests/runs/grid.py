"""The runs tests' τ/λ grid (synth-prognostic on tiny C2L and MiniLM) and the numbers a run of
it stores."""

import numpy as np

from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig


def distill_config(method: str = "distill", **extra: object) -> RunConfig:
    """Two seeds, two epochs at a quarter of the data; ``extra`` overrides any field."""
    values: dict[str, object] = {
        "task": "synth-prognostic",
        "backbone": "c2l",
        "method": method,
        "fraction": 0.25,
        "seeds": (0, 1),
        "epochs": 2,
        "text_encoder": "minilm",
        "tiny": True,
    }
    return RunConfig.model_validate(values | extra)


def grid(method: str = "distill") -> list[RunConfig]:
    """Four students of one teacher: τ in (0.5, 2.0) by λ in (0.3, 0.8)."""
    return [distill_config(method, tau=tau, lam=lam) for tau in (0.5, 2.0) for lam in (0.3, 0.8)]


def image_only() -> RunConfig:
    """The grid's image-only control (τ and λ left as the grid's first student has them)."""
    return RunConfig.model_validate(grid()[0].model_dump() | {"method": "image"})


def stored_numbers(store: ResultsStore, key: str) -> list[np.ndarray]:
    """A run's stored per-seed metrics and curves, in a fixed order."""
    seeds = store.seed_metrics(key).sort_values(["stage", "seed"])
    curves = store.curves(key).sort_values(["stage", "seed", "epoch"])
    return [
        frame[column].to_numpy(float)
        for frame, column in [(seeds, "final_auc"), (seeds, "final_auprc"), (curves, "loss")]
    ]
