"""``radsweep train``: one configuration, all its seeds in one pass, a table of the results."""

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import TaskID
from rich.table import Table

from radsweep.cli.context import console, progress_bar, settings
from radsweep.cli.options import DeviceOption, model_options
from radsweep.devices import resolve_device
from radsweep.errors import RadsweepError
from radsweep.runs.config import MAX_SEED, MAX_SEEDS, RunConfig
from radsweep.training.registry import PAPER_HEAD, head_specs

if TYPE_CHECKING:  # imported lazily at run time: they pull in torch, encoders and W&B
    import numpy as np
    from pydantic import BaseModel

    from radsweep.runs.outcome import RunOutcome

# Members read from the catalogue at import, which mypy cannot enumerate.
HeadChoice = StrEnum("HeadChoice", [(spec.name, spec.name) for spec in head_specs()])  # type: ignore[misc]
"""The registered heads, as --head offers them (read from the catalogue, so a new head shows)."""
DEFAULT_HEAD = HeadChoice(PAPER_HEAD)
TRAIN_FIELDS = (
    "task", "backbone", "method", "fraction", "head", "tau", "lam", "text_encoder", "max_length",
    "epochs", "teacher_epochs", "lr", "batch_size", "views", "pool", "weights", "variant",
    "text_weights", "tiny", "precision",
)  # fmt: skip
"""The RunConfig fields ``train`` offers as options (seeds is parsed from text; the rest keep
the model's defaults)."""


def parse_seeds(text: str) -> tuple[int, ...]:
    """``0-4``, ``0,2,7`` or ``3`` to a tuple of seeds."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            start, stop = int(first), int(last or first) + 1
            if start < 0 or stop > MAX_SEED + 1 or len(seeds) + stop - start > MAX_SEEDS:
                raise RadsweepError(
                    f"--seeds {text!r} is out of range",
                    hint=f"use at most {MAX_SEEDS} seeds, each from 0 to {MAX_SEED}",
                )
            seeds.extend(range(start, stop))
    except ValueError:
        raise RadsweepError(
            f"--seeds {text!r} is not a seed list", hint="write e.g. 0-4 or 0,2,7"
        ) from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise RadsweepError(f"--seeds {text!r} repeats or names no seed", hint="e.g. 0-4")
    return tuple(seeds)


def print_model(model: "BaseModel") -> None:
    """``--json``: the model as one JSON document, the only thing on stdout."""
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")
    sys.stdout.flush()


def _results_table(outcome: "RunOutcome", title: str) -> Table:
    result = outcome.result
    assert result is not None
    table = Table(
        title=title,
        title_justify="left",
        caption=_caption(held_out=result.model.selected is not None),
        caption_justify="left",
    )
    for column in ("seed", "train", "val", "AUC", "AUPRC", "best (epoch)"):
        table.add_column(column, justify="right", no_wrap=True)
    if result.teacher is not None:
        table.add_column("teacher", justify="right", no_wrap=True)
    if outcome.baseline_auc is not None:
        table.add_column("image-only", justify="right", no_wrap=True)
    model = result.model
    for index, seed in enumerate(result.seeds):
        row = [
            str(seed),
            str(result.train_sizes[index]),
            str(result.validation_sizes[index]),
            f"{model.final_auc[index]:.3f}",
            f"{model.final_auprc[index]:.3f}",
            f"{model.best_auc[index]:.3f} ({model.best_epoch[index] + 1})",
        ]
        if result.teacher is not None:
            row.append(f"{result.teacher.best_auc[index]:.3f}")
        if outcome.baseline_auc is not None:
            row.append(f"{outcome.baseline_auc[index]:.3f}")
        table.add_row(*row)
    return table


def _caption(held_out: bool) -> str:
    """What the table's numbers are: under held-out scoring every AUC is on the test rows, read
    at an epoch the selection rows chose; otherwise validation both chooses and scores."""
    if held_out:
        scored = "AUC/AUPRC on each seed's held-out test rows (val: their count): final epoch; "
        best = "best: at the epoch the selection rows chose (epoch); teacher: at its chosen epoch"
    else:
        scored = "AUC/AUPRC: final epoch; "
        best = "best: highest validation AUC (epoch); teacher: its best epoch"
    return (
        f"{scored}{best} (the one distilled from); image-only: the same configuration without "
        "the report."
    )


def _interval_line(name: str, values: "np.ndarray") -> str:
    from radsweep.stats import t_interval

    interval = t_interval(values, 0.95)
    if interval.n < 2:
        return f"{name}: {interval.mean:.3f} (one seed: no interval)"
    return (
        f"{name}: {interval.mean:.3f}, 95% t-interval {interval.low:.3f}-{interval.high:.3f} "
        f"({interval.n} seeds)"
    )


@model_options(
    RunConfig,
    TRAIN_FIELDS,
    types={"head": HeadChoice},
    defaults={"head": DEFAULT_HEAD, "fraction": 1.0, "text_encoder": None},
)
def train(
    ctx: typer.Context,
    seeds: Annotated[str, typer.Option(help="Seeds, e.g. 0-4 or 0,2,7.")] = "0-4",
    device: DeviceOption = None,
    seed_chunk: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Seeds one training step holds at once, to fit the GPU's memory (same results "
            "at any value; default: measured on a GPU, all on the CPU; RADSWEEP_SEED_CHUNK).",
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the run as JSON (config, key, per-seed and mean AUC) only."
        ),
    ] = False,
    **fields: Any,
) -> None:
    """Train one configuration: every seed in one vectorized pass, features extracted if missing.

    Prints each seed's final- and best-epoch AUC on the scored rows (each seed's held-out test
    rows unless the configuration scores on validation) and the mean with a 95% t-interval
    (figures use the final epoch). The run is recorded in the results store; running the same
    configuration again shows the stored numbers instead of training twice.

    Example: radsweep train --task synth-diagnostic --backbone pixel-patches --fraction 0.1
    """
    from radsweep.results.store import ResultsStore, default_store_path
    from radsweep.runs.execute import RunHooks, run_configuration
    from radsweep.runs.summary import run_summary

    if fields.get("text_encoder") is None:  # unset: the backbone's family's (RunConfig says)
        fields.pop("text_encoder", None)
    config = RunConfig(seeds=parse_seeds(seeds), **fields)
    target = str(resolve_device(device))
    folders = settings(ctx)
    if seed_chunk is not None:
        folders = folders.model_copy(update={"seed_chunk": seed_chunk})
    store = ResultsStore(default_store_path(folders))
    with progress_bar("items") as bar:
        tasks: dict[str, TaskID] = {}

        def advance(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        def epoch(stage: str, done: int, total: int) -> None:
            advance(f"training {stage} (epochs)", done, total)

        hooks = RunHooks(extraction=advance, training=epoch)
        outcome = run_configuration(config, folders, device=target, store=store, hooks=hooks)
    if json_output:
        print_model(run_summary(outcome, store))
        return
    if outcome.result is None:
        console.print(
            f"already in the results store ({outcome.key}); "
            "see radsweep results ls, or change the configuration"
        )
        return
    resolved = outcome.config
    title = (
        f"{resolved.task} · {resolved.backbone or resolved.text_encoder} · {resolved.method.value}"
        f" · {resolved.head} · fraction {resolved.fraction:g} · {resolved.epochs} epochs"
    )
    console.print(_results_table(outcome, title))
    console.print(_interval_line("mean AUC (final epoch)", outcome.result.model.final_auc))
    if outcome.missing:
        console.print(f"{outcome.missing} samples had no features (excluded as bad images)")
    console.print(f"recorded as {outcome.key} in {default_store_path(folders)}")
