"""A quick, model-free look at how much the image and the report each say about the label.

Logistic regression on TF-IDF report n-grams and on downsampled pixels, trained on seed 0's full
training pool and scored on its validation set. It is a sanity check of a dataset (e.g. that the
synthetic knobs do what they say), not a result of the study: frozen backbones do that part.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from radsweep.errors import ManifestError
from radsweep.metrics import auc
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.registry import find_task_directory
from radsweep.tasks.splits import make_split

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

THUMBNAIL = 32


@dataclass(frozen=True)
class ProbeResult:
    report_auc: float
    image_auc: float
    training_samples: int
    validation_samples: int


def thumbnails(manifest: Manifest) -> np.ndarray:
    """Grayscale ``THUMBNAIL``² pixels per image, in manifest order, scaled to [0, 1]."""
    rows = []
    for path in manifest.image_paths():
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ManifestError(
                f"cannot read image {path}", hint="the manifest's image_path must name an image"
            )
        rows.append(cv2.resize(image, (THUMBNAIL, THUMBNAIL), interpolation=cv2.INTER_AREA))
    return np.stack(rows).reshape(len(rows), -1).astype(np.float32) / 255.0


def _fit_auc(
    features: "np.ndarray | csr_matrix",
    labels: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    c: float,
    n_classes: int,
) -> float:
    model = LogisticRegression(C=c, max_iter=3000).fit(features[train], labels[train])
    return auc(labels[val], model.predict_proba(features[val]), n_classes)


def probe(manifest: Manifest, pixels: np.ndarray | None = None, seed: int = 0) -> ProbeResult:
    """Report-only and image-only AUC on seed ``seed``'s validation set."""
    frame = manifest.frame
    split = make_split(manifest, seed)
    position = {sample_id: index for index, sample_id in enumerate(frame["sample_id"])}
    train = np.array([position[i] for i in split.training_order])
    val = np.array([position[i] for i in split.validation])
    labels = frame["label"].to_numpy()
    k = manifest.task.n_classes
    text = TfidfVectorizer(ngram_range=(1, 2), min_df=2).fit(frame["report"].iloc[train])
    report_auc = _fit_auc(text.transform(frame["report"]), labels, train, val, 10.0, k)
    pixels = thumbnails(manifest) if pixels is None else pixels
    image_auc = _fit_auc(pixels, labels, train, val, 0.1, k)
    return ProbeResult(report_auc, image_auc, len(train), len(val))


def probe_tasks(
    names: list[str], data_dir: Path, seed: int = 0, on_task: Callable[[str], None] | None = None
) -> list[dict[str, object]]:
    """``probe`` for each named task (or task folder), as records; ``on_task(name)`` is called
    before each, for a progress line."""
    records = []
    for name in names:
        manifest = Manifest.load(find_task_directory(name, data_dir))
        if on_task is not None:
            on_task(manifest.task.name)
        result = probe(manifest, thumbnails(manifest), seed)
        records.append(
            {
                "task": manifest.task.name,
                "samples": len(manifest.frame),
                "patients": int(manifest.frame["patient_id"].nunique()),
                "training_samples": result.training_samples,
                "validation_samples": result.validation_samples,
                "report_auc": result.report_auc,
                "image_auc": result.image_auc,
            }
        )
    return records
