"""Image features extracted while a W&B run is open (a sweep run on uncached data): the forked
decoding workers must not import anything for the first time, or W&B's import hooks fail in
them (``ForkedError``). Run in a fresh interpreter, where the transforms are not yet imported."""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from pathlib import Path
import wandb
from radsweep.encoders.light import PixelPatches
from radsweep.features.extract import ExtractOptions, extract_image_features
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.synthetic import SynthConfig, synthesize

root = Path(sys.argv[1])
synthesize(SynthConfig(samples=50, image_size=64), root / "data")
assert "torchvision.transforms" not in sys.modules  # else the test would prove nothing
run = wandb.init(mode="offline", project="radsweep-test")
manifest = Manifest.load(root / "data" / "synth-prognostic")
options = ExtractOptions(batch_size=8, workers=1)
extract_image_features(PixelPatches(), manifest, root / "cache", options=options)
run.finish()
print("extracted")
"""


def test_workers_fork_safely_while_a_wandb_run_is_open(tmp_path: Path) -> None:
    folders = {
        name: str(tmp_path / name)
        for name in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR")
    }
    env = {**os.environ, **folders, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("extracted")
