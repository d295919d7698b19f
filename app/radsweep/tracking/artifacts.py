"""Heads uploaded to W&B, fetched back with W&B's own client (``radsweep predict --artifact``)."""

from pathlib import Path

import wandb

from radsweep.errors import HeadError
from radsweep.runs.heads import CARD_FILE
from radsweep.tracking import schema
from radsweep.tracking.server import offline_mode
from radsweep.watchdog import attempt

DOWNLOAD_SECONDS = 600.0


def download_heads(name: str, root: Path, timeout: float = DOWNLOAD_SECONDS) -> Path:
    """Download model artifact ``ENTITY/PROJECT/NAME:VERSION`` (or ``:ALIAS``, e.g. a run key)
    into ``root``; the folder holding its card."""
    if (mode := offline_mode()) is not None:
        raise HeadError(
            f"WANDB_MODE={mode} keeps W&B offline: artifact {name} cannot be downloaded",
            hint="unset WANDB_MODE, or download it elsewhere and pass --head FOLDER",
        )

    def fetch() -> str:
        artifact = wandb.Api(timeout=int(timeout)).artifact(name, type=schema.HEADS_ARTIFACT_TYPE)
        return str(artifact.download(root=str(root)))

    done = attempt(fetch, timeout, "wandb-artifact-download")
    if not done.finished:
        raise HeadError(
            f"W&B did not deliver artifact {name} within {timeout:.0f} s",
            hint="check the connection, or download it and pass --head FOLDER",
        )
    if done.error is not None:
        detail = " ".join(str(done.error).split())[:300] or type(done.error).__name__
        raise HeadError(
            f"cannot download artifact {name}: {detail}",
            hint="name it as ENTITY/PROJECT/heads-SPEC:VERSION (or :RUN_KEY), as the run logged it",
        ) from done.error
    folder = Path(str(done.value))
    if not (folder / CARD_FILE).is_file():
        raise HeadError(
            f"artifact {name} holds no {CARD_FILE}",
            hint="it was logged before heads carried their card: retrain with --upload-heads",
        )
    return folder
