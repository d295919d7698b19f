"""Schema-faithful manifest fixtures made by the tests themselves (no patient data)."""

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from radsweep.tasks.manifest import TaskFile
from radsweep.tasks.spec import TaskSpec


def write_images(root: Path, names: list[str], size: int = 16) -> None:
    """Tiny real PNG files, one per relative path."""
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.full((size, size), 128, np.uint8))


def manifest_frame(task: TaskSpec, samples: int = 40, seed: int = 0) -> pd.DataFrame:
    """A valid manifest table for ``task`` with two images per patient."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sample_id": [f"img-{i:04d}" for i in range(samples)],
            "image_path": [f"images/img-{i:04d}.png" for i in range(samples)],
            "report": [f"FINDINGS: finding {i}." for i in range(samples)],
            "label": rng.integers(0, task.n_classes, size=samples),
            "patient_id": [f"pt-{i // 2:03d}" for i in range(samples)],
            "view": "PA",
        }
    )
    if task.split.kind == "fixed-pool":
        frame["pool"] = np.where(np.arange(samples) // 2 % 5 == 0, "eval", "train")
    return frame


def task_folder(tmp_path: Path, task: TaskSpec, samples: int = 40) -> tuple[Path, pd.DataFrame]:
    """A task folder with images and task.json (manifest.parquet left to the test)."""
    frame = manifest_frame(task, samples)
    write_images(tmp_path, list(frame["image_path"]))
    (tmp_path / "task.json").write_text(TaskFile(task=task).model_dump_json())
    return tmp_path, frame
