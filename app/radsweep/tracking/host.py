"""Which W&B server radsweep names and probes: the one W&B's own client would use.

``WANDB_BASE_URL`` first, then ``base_url`` in W&B's settings file (what ``wandb login --host``
writes, under ``WANDB_CONFIG_DIR``, default ``~/.config/wandb``), else the public server. Read
from the file directly, so asking costs no ``wandb`` import.
"""

import configparser
import os
from pathlib import Path

DEFAULT_SERVER = "https://api.wandb.ai"


def settings_file() -> Path:
    """W&B's global settings file (an INI file with a ``[default]`` section)."""
    folder = os.environ.get("WANDB_CONFIG_DIR") or Path.home() / ".config" / "wandb"
    return Path(folder).expanduser() / "settings"


def wandb_server() -> str:
    """The W&B server's base URL, without a trailing slash."""
    if url := os.environ.get("WANDB_BASE_URL", "").strip():
        return url.rstrip("/")
    parser = configparser.ConfigParser()
    try:
        parser.read(settings_file(), encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):  # a damaged file: W&B would not use it
        return DEFAULT_SERVER
    url = parser.get("default", "base_url", fallback="").strip()
    return url.rstrip("/") or DEFAULT_SERVER
