"""The small distillation run the runs tests train: synth-prognostic on tiny C2L and MiniLM."""

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
