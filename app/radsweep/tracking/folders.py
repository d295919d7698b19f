"""Where W&B keeps radsweep's offline runs: the one module that knows W&B's folder layout.

``wandb.init(dir=FOLDER)`` writes each offline run to ``FOLDER/wandb/offline-run-<time>-<id>``;
``wandb sync`` uploads such folders. This module imports no wandb, so listing them stays cheap.
"""

from pathlib import Path


def offline_runs_pattern(wandb_dir: Path) -> Path:
    """The glob of every offline run under ``wandb_dir``: what to pass to ``wandb sync``."""
    return wandb_dir / "wandb" / "offline-run-*"


def offline_runs(wandb_dir: Path, run_id: str) -> list[Path]:
    """The local folders of W&B run ``run_id`` under ``wandb_dir`` (one per attempt to log it)."""
    return sorted((wandb_dir / "wandb").glob(f"offline-run-*-{run_id}"))


def sync_hint(wandb_dir: Path) -> str:
    """Where the offline runs are and the command that uploads them, in one line."""
    runs = offline_runs_pattern(wandb_dir)
    return f"offline W&B runs: {runs} (upload later: wandb sync {runs})"
