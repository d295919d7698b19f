"""A small synthetic sweep with known numbers, recorded into a results store.

Fit results are built directly (no training), so every stored metric is a known function of the
configuration: tests can check the store and the report's numbers exactly.
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from radsweep.results.rows import curve_rows, seed_rows
from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig, run_key
from radsweep.tasks.synthetic.tasks import SYNTHETIC_TASKS
from radsweep.tracking import schema
from radsweep.tracking.reader import WandbRun
from radsweep.training.config import HeadKind, Method
from radsweep.training.results import Curves, FitResult
from radsweep.training.teacher import TeacherRecord

TASKS = ("synth-diagnostic", "synth-prognostic")
BACKBONES = ("rad-dino", "c2l")
FRACTIONS = (0.1, 0.5)
SEEDS = (0, 1, 2)
EPOCHS = 4
CACHE_KEYS = ["image-cache", "text-cache"]
_METHOD_GAIN = {"image": 0.0, "self-distill": 0.01, "distill": 0.03, "teacher": 0.08, "text": 0.1}


def curves(final: np.ndarray, epochs: int = EPOCHS) -> Curves:
    """Curves that rise by 0.02 per epoch to ``final`` (per seed): the last epoch is the best."""
    ramp = 0.02 * np.arange(epochs - 1, -1, -1)
    auc = final[:, None] - ramp[None, :]
    loss = np.tile(1.0 / np.arange(1, epochs + 1), (len(final), 1))
    return Curves(auc=auc, auprc=auc - 0.1, loss=loss)


def final_auc(config: RunConfig) -> np.ndarray:
    """A known final AUC per seed: grows with the fraction, differs by method and backbone."""
    base = 0.6 + 0.2 * config.fraction + _METHOD_GAIN[config.method.value]
    base += 0.02 * (config.backbone == "rad-dino") - 0.03 * (config.head != HeadKind.ATTENTION)
    base += 0.01 * ((config.tau or 0) > 1) + 0.005 * (config.text_encoder == "cxr-bert-general")
    return base + 0.01 * np.asarray(config.seeds, dtype=float) ** 1.5


def fit_result(
    config: RunConfig,
    samples: int = 400,
    selected: np.ndarray | None = None,
    selection_shift: float = 0.0,
) -> FitResult:
    """``selected``: the epochs (from 0) held-out scoring chose per seed, for model and teacher;
    the model's curves on the selection rows are then its curves moved by ``selection_shift``."""
    n_train = tuple(round(config.fraction * samples) + seed for seed in config.seeds)
    model = replace(curves(final_auc(config)), selected=selected)
    selection = None if selected is None else curves(final_auc(config) + selection_shift)
    teacher = None
    if config.method.distils:
        teacher = replace(curves(final_auc(config) + 0.05), selected=selected)
    return FitResult(
        config=config.train_config(SYNTHETIC_TASKS[config.task]),
        seeds=config.seeds,
        train_sizes=n_train,
        validation_sizes=(100,) * len(config.seeds),
        model=model,
        teacher=teacher,
        selection=selection,
    )


@dataclass(frozen=True)
class Recorded:
    key: str
    config: RunConfig
    result: FitResult


def record(
    store: ResultsStore,
    selected: np.ndarray | None = None,
    selection_shift: float = 0.0,
    **fields: object,
) -> Recorded:
    """Resolve a config of the synthetic sweep, build its result and record it."""
    raw = RunConfig(seeds=SEEDS, epochs=EPOCHS, **fields)  # type: ignore[arg-type]
    config = raw.resolve(SYNTHETIC_TASKS[raw.task])
    key = run_key(config, CACHE_KEYS)
    result = fit_result(config, selected=selected, selection_shift=selection_shift)
    store.record(key, config, result, CACHE_KEYS, {"seconds": 1.5, "device": "cpu"})
    return Recorded(key, config, result)


def main_grid(store: ResultsStore, tasks=TASKS, backbones=BACKBONES, fractions=FRACTIONS) -> list:
    """Image-only, teacher, distillation and self-distillation on every grid point; text-only."""
    done = []
    for task in tasks:
        for fraction in fractions:
            done.append(record(store, task=task, method=Method.TEXT, fraction=fraction))
            for backbone in backbones:
                for method in (Method.IMAGE, Method.TEACHER, Method.DISTILL, Method.SELF_DISTILL):
                    point = {"task": task, "backbone": backbone, "fraction": fraction}
                    done.append(record(store, **point, method=method))
    return done


def ablations(store: ResultsStore, task: str = "synth-prognostic") -> list:
    """Heads (image-only), τ, λ and text encoder (distillation) on one task and backbone."""
    done = []
    for fraction in FRACTIONS:
        for head in (HeadKind.MEAN_LP, HeadKind.CLS_LP):
            done.append(record(store, task=task, backbone="rad-dino", head=head, fraction=fraction))
        distill = {"task": task, "backbone": "rad-dino", "method": Method.DISTILL}
        for tau in (0.5, 2.0):
            done.append(record(store, **distill, tau=tau, fraction=fraction))
        done.append(record(store, **distill, lam=0.8, fraction=fraction))
        done.append(record(store, **distill, text_encoder="cxr-bert-general", fraction=fraction))
    return done


def full_sweep(store: ResultsStore) -> list:
    return main_grid(store) + ablations(store)


def as_wandb_run(done: Recorded, created: str, sizes: bool = True) -> WandbRun:
    """A recorded run as W&B holds it once radsweep's writer logged it (its own schema)."""
    result = done.result
    curves = pd.DataFrame(curve_rows(result))
    seeds = pd.DataFrame(seed_rows(result))
    history = pd.DataFrame(schema.history_rows(curves))
    history = pd.concat([history, pd.DataFrame([{"_step": 99}])], ignore_index=True)  # a table
    summary: dict = {**schema.summary_values(seeds, None), "seconds": 2.0}
    if not sizes:
        summary = {k: v for k, v in summary.items() if not k.startswith(schema.SIZES)}
    config = {
        **done.config.model_dump(mode="json"),
        **schema.config_values(done.config, done.key, tuple(CACHE_KEYS), {}),
        "_wandb": {},
    }
    return WandbRun(f"id-{done.key[:6]}", created, config, summary, history)


def teacher_record(seeds: tuple[int, ...] = (0, 1), shift: float = 0.0) -> TeacherRecord:
    """A record of the shape a fit keeps: 2 training views, 3 classes, 4 epochs."""
    rng = np.random.default_rng(len(seeds))
    rows = tuple(np.sort(rng.choice(50, 10 + s, replace=False)) for s in range(len(seeds)))
    logits = tuple(rng.standard_normal((2, len(r), 3)).astype(np.float32) + shift for r in rows)
    trained = Curves(
        *(rng.random((len(seeds), EPOCHS)).astype(np.float32) for _ in range(3)),
        selected=np.arange(len(seeds)),
    )
    return TeacherRecord(seeds, (1, 2), rows, logits, trained, selection=trained)
