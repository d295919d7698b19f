"""Where W&B keeps radsweep's offline runs: the one module that knows W&B's folder layout.

``wandb.init(dir=FOLDER)`` writes each offline run to ``FOLDER/wandb/offline-run-<time>-<id>``;
``wandb sync`` uploads such folders. This module imports no wandb, so listing them stays cheap.
"""

import os
import tempfile
from pathlib import Path

from radsweep.errors import SweepError
from radsweep.settings import Settings


def offline_runs_pattern(wandb_dir: Path) -> Path:
    """The glob of every offline run under ``wandb_dir``: what to pass to ``wandb sync``."""
    return wandb_dir / "wandb" / "offline-run-*"


def offline_runs(wandb_dir: Path, run_id: str) -> list[Path]:
    """The local folders of W&B run ``run_id`` under ``wandb_dir`` (one per attempt to log it)."""
    return sorted((wandb_dir / "wandb").glob(f"offline-run-*-{run_id}"))


def offline_folders(wandb_dir: Path) -> list[Path]:
    """Every offline run folder under ``wandb_dir``, oldest first (the time is in the name)."""
    return sorted(
        path
        for path in offline_runs_pattern(wandb_dir).parent.glob(
            offline_runs_pattern(wandb_dir).name
        )
        if path.is_dir()
    )


def folder_run_id(folder: Path) -> str:
    """The W&B run id of an offline run folder (``offline-run-<date>_<time>-<id>``)."""
    return folder.name.split("-", 3)[-1]


def uploaded(folder: Path) -> bool:
    """Whether ``wandb sync`` uploaded the folder: it leaves ``run-<id>.wandb.synced`` beside
    the run's log once the server has everything."""
    return (folder / f"run-{folder_run_id(folder)}.wandb.synced").is_file()


LINEAGE_FILE = "radsweep-lineage.json"
"""Written into an offline run's folder by ``radsweep sync`` once the uploaded run declares its
feature caches as inputs: the run's URL, so a second sync has nothing left to do."""


def sync_hint(wandb_dir: Path) -> str:
    """Where the offline runs are and the command that uploads them, in one line."""
    runs = offline_runs_pattern(wandb_dir)
    return f"offline W&B runs: {runs} (upload later: wandb sync {runs})"


def check_writable(settings: Settings) -> None:
    """Create the folders W&B will write the runs to, or fail once, in one line, before any run
    (a worker would otherwise fail every run with W&B's traceback)."""
    folders = {"the W&B folder": settings.wandb}
    for name, default in settings.wandb_environment().items():
        if name != "WANDB_DIR":  # radsweep passes its W&B folder to every run explicitly
            folders[name] = Path(os.environ.get(name, default)).expanduser()
    for label, folder in folders.items():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as error:
            reason = error.strerror or type(error).__name__
            fix = f"unset {label} or point it" if label.startswith("WANDB_") else "point it"
            raise SweepError(
                f"W&B cannot write its files to {folder} ({label}): {reason}",
                hint=f"{fix} at a writable folder (radsweep --wandb-dir DIR, or "
                "RADSWEEP_WANDB_DIR, moves every W&B folder)",
            ) from error
