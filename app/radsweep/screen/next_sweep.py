"""The screen's next step: a sweep spec for the task, ready for ``sweep local`` or ``register``.

The spec sweeps every training fraction of the task's ``task.json`` (and the screen's own, if it
was given others) with image-only, distillation and self-distillation, and a τ/λ grid around
the values the screen used: τ halved and doubled (the paper used 0.25 on most tasks and 2.5 on
report-extracted labels, so the right τ is task-dependent) and λ a quarter either side.
Encoders, head, seeds, epochs and learning rate are the screen's, written out as the screen
resolved them (the catalogue's recommended training where the user gave none), so the sweep's runs
at the screen's fractions are the screen's runs (same run keys) and are not trained again.
"""

from pathlib import Path
from typing import Any

import yaml

from radsweep.atomic import atomic_path
from radsweep.screen.plan import FULL_POOL
from radsweep.screen.run import Screen
from radsweep.screen.verdict import Verdict
from radsweep.sweeps.spec import expand, load_spec, task_specs
from radsweep.tracking.schema import SWEEP_METRIC
from radsweep.training.config import Method

TAU_FACTORS = (0.5, 1.0, 2.0)
LAMBDA_STEP = 0.25
METHODS = ("image", "distill", "self-distill")

_PURPOSE = {
    Verdict.DETERMINES: "confirm that distillation gains no more than self-distillation",
    Verdict.PREDICTS: "confirm that distillation gains no more than self-distillation",
    Verdict.ADDS: "find where, and with which τ and λ, distillation beats self-distillation",
    Verdict.LITTLE: "confirm that the report adds nothing at any training size",
    Verdict.INCONCLUSIVE: "resolve the control: more seeds and training sizes",
}


def tau_grid(tau: float) -> list[float]:
    return [round(tau * factor, 6) for factor in TAU_FACTORS]


def lambda_grid(lam: float) -> list[float]:
    """λ and a quarter either side, kept inside (0, 1]: λ = 0 is image-only, already swept."""
    values = {round(lam + step, 6) for step in (-LAMBDA_STEP, 0.0, LAMBDA_STEP)}
    return sorted(value for value in values if 0 < value <= 1)


def sweep_config(screen: Screen) -> dict[str, Any]:
    """The W&B sweep configuration for ``screen``'s task."""
    options = screen.options
    fraction = screen.fractions[0] if screen.fractions else FULL_POOL
    config = options.run_config(Method.DISTILL, fraction, options.head)
    resolved = config.resolve(screen.task)
    assert resolved.tau is not None and resolved.lam is not None
    fixed: dict[str, Any] = {
        "task": screen.task.name,
        "backbone": options.backbone,
        "text_encoder": options.text_encoder,
        "head": str(options.head),
        "seeds": list(options.seeds),
    }
    epochs = options.epochs or config.recommended().epochs  # else the task's table, per fraction
    if epochs:
        fixed["epochs"] = epochs
    fixed["lr"] = resolved.lr
    for name in ("max_length", "tiny"):
        value = getattr(options, name)
        if value:
            fixed[name] = value
    parameters: dict[str, Any] = {name: {"value": value} for name, value in fixed.items()}
    parameters["method"] = {"values": list(METHODS)}
    sizes = {size.fraction for size in screen.task.sizes} | set(screen.fractions)
    parameters["fraction"] = {"values": sorted(sizes)}
    parameters["tau"] = {"values": tau_grid(resolved.tau)}
    parameters["lam"] = {"values": lambda_grid(resolved.lam)}
    return {
        "name": f"screen-{screen.task.name}",
        "description": f"{screen.judgement.verdict.value}: {_PURPOSE[screen.judgement.verdict]}",
        "method": "grid",
        "metric": {"name": SWEEP_METRIC, "goal": "maximize"},
        "command": ["${env}", "radsweep", "sweep", "run-config", "${args_json}"],
        "parameters": parameters,
    }


def _header(screen: Screen, path: Path) -> str:
    return (
        f"# Written by radsweep screen {screen.task.name}: {screen.judgement.verdict.value}.\n"
        f"# Purpose: {_PURPOSE[screen.judgement.verdict]}.\n"
        f"#   radsweep sweep local {path} --workers 2\n"
        f"#   radsweep sweep register {path}\n"
    )


def write_sweep_spec(screen: Screen, path: Path, data_dir: Path) -> int:
    """Write the spec atomically once it validates; the number of configurations it holds."""
    text = _header(screen, path) + yaml.safe_dump(
        sweep_config(screen), sort_keys=False, allow_unicode=True, width=100
    )
    tasks = {**task_specs(data_dir), screen.task.name: screen.task}
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
        return len(expand(load_spec(temporary), tasks))
