"""Screen one task end to end: measure and judge, write the next sweep, log to W&B if asked.

``screen_task`` is what ``radsweep screen`` calls; everything it prints comes back in the
``ScreenAnswer``.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radsweep.runs.execute import RunHooks
from radsweep.screen.next_sweep import write_sweep_spec
from radsweep.screen.plan import ScreenOptions
from radsweep.screen.run import Screen, run_screen
from radsweep.screen.table import screen_table
from radsweep.settings import Settings


@dataclass(frozen=True)
class Tracking:
    """Where the screen's W&B run goes; ``mode`` online or offline."""

    mode: str
    project: str = "radsweep"
    entity: str | None = None


@dataclass(frozen=True)
class ScreenAnswer:
    """The screen, its table, the spec written (and how many runs it holds), the W&B folder."""

    screen: Screen
    table: pd.DataFrame
    spec: Path | None = None
    spec_runs: int = 0
    wandb_dir: str | None = None
    notes: tuple[str, ...] = ()


def _summary(screen: Screen) -> dict[str, object]:
    return {
        "verdict": screen.judgement.verdict.value,
        "advice": screen.judgement.advice,
        "text_auc": screen.modalities.text.mean,
        "image_auc": screen.modalities.image.mean,
        "seconds": screen.seconds,
        "cpu_seconds": screen.cpu_seconds,
    }


def _spec_notes(screen: Screen, settings: Settings) -> tuple[str, ...]:
    """A sweep finds its task by name under the data folder: say so when the task is elsewhere."""
    if screen.task_directory.resolve().is_relative_to(settings.data.resolve()):
        return ()
    return (
        f"sweeps find tasks by name under {settings.data}: move or link "
        f"{screen.task_directory} there before running the spec",
    )


def screen_task(
    options: ScreenOptions,
    settings: Settings,
    *,
    out: Path | None = None,
    tracking: Tracking | None = None,
    device: str | None = None,
    hooks: RunHooks | None = None,
) -> ScreenAnswer:
    """Screen ``options.task``; write the sweep spec to ``out`` and log to W&B when asked."""
    screen = run_screen(options, settings, device=device, hooks=hooks)
    table = screen_table(screen)
    runs = write_sweep_spec(screen, out, settings.data) if out is not None else 0
    notes = _spec_notes(screen, settings) if out is not None else ()
    wandb_dir = None
    if tracking is not None:
        from radsweep.tracking.screen import log_screen

        config = {**screen.options.model_dump(mode="json"), "fractions": list(screen.fractions)}
        wandb_dir = log_screen(
            table,
            config,
            _summary(screen),
            mode=tracking.mode,
            project=tracking.project,
            entity=tracking.entity,
            settings=settings,
        )
    return ScreenAnswer(screen, table, out, runs, wandb_dir, notes)
