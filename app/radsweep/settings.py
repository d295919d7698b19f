"""Where radsweep keeps its data, caches, results and W&B files.

One pydantic-settings model: every folder defaults to a sub-folder of ``RADSWEEP_HOME`` and can be
overridden on its own by an environment variable (``RADSWEEP_DATA_DIR``, ...) or a CLI flag.
"""

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """radsweep's folders. An unset folder is the matching sub-folder of ``home``."""

    model_config = SettingsConfigDict(env_prefix="RADSWEEP_", extra="ignore")

    home: Path = Path("~/.radsweep")
    data_dir: Path | None = None
    cache_dir: Path | None = None
    results_dir: Path | None = None
    wandb_dir: Path | None = None
    upload_heads: bool = False
    """Upload each W&B run's trained heads as a model artifact (RADSWEEP_UPLOAD_HEADS, a spec's
    ``upload_heads: true`` or ``--upload-heads``); the results store keeps them either way."""
    seed_chunk: Annotated[int | None, Field(gt=0)] = None
    """Seeds one training step holds at once (RADSWEEP_SEED_CHUNK or ``train --seed-chunk``);
    unset: measured on a CUDA GPU, all of them on the CPU. Results are the same at any value."""

    def _folder(self, override: Path | None, name: str) -> Path:
        return (override or self.home / name).expanduser()

    @property
    def data(self) -> Path:
        """Task manifests and their images (the synthetic benchmark, built datasets)."""
        return self._folder(self.data_dir, "data")

    @property
    def cache(self) -> Path:
        """Feature caches: large, re-creatable."""
        return self._folder(self.cache_dir, "cache")

    @property
    def results(self) -> Path:
        """The results store and exported tables."""
        return self._folder(self.results_dir, "results")

    @property
    def wandb(self) -> Path:
        """Everything W&B writes, offline runs included."""
        return self._folder(self.wandb_dir, "wandb")

    @property
    def synthetic(self) -> Path:
        """Where ``radsweep data synth`` and the demo write the embedded benchmark."""
        return self.data / "synthetic"

    def wandb_environment(self) -> dict[str, str]:
        """W&B's four folders inside ``wandb``, so no run writes to ``~`` behind our back."""
        return {
            "WANDB_DIR": str(self.wandb),
            "WANDB_DATA_DIR": str(self.wandb / "data"),
            "WANDB_CACHE_DIR": str(self.wandb / "cache"),
            "WANDB_CONFIG_DIR": str(self.wandb / "config"),
        }
