"""Apply a trained student to new images: the way a user uses the model a study picked.

The heads come from the results store (a run key, or a unique prefix of one), from a W&B model
artifact (``ENTITY/PROJECT/NAME:VERSION``, downloaded with W&B's own client) or from a folder
holding ``head.json`` and ``heads.safetensors`` (``radsweep.runs.heads``). The images are a task
folder (the layout ``radsweep data`` builds) or a list of files. Their features are extracted
into the feature cache with the backbone, weights, preprocessing and pooling the card names (the
centre view: the view a head scores), checked against the card, and scored by every seed's
model. The CSV (one row per image: its id, one probability column per seed and their mean) is
written atomically, after every number is computed: an error leaves no file.
"""

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from radsweep.atomic import write_atomic
from radsweep.devices import resolve_device
from radsweep.errors import HeadError
from radsweep.features import ExtractOptions, ImageFeatures, ViewPlan, load_image_features
from radsweep.features.service import ImageRequest, TaskProgress, extract_into_cache
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.heads import CARD_FILE, HeadCard, StoredHead, heads_folder, load_heads
from radsweep.settings import Settings
from radsweep.tasks.manifest import Manifest, TaskFile, validate_frame
from radsweep.tasks.registry import find_task_directory

MATCHED = ("encoder", "weights", "preprocessing", "decode", "pool", "dtype")
"""What of the image cache's spec must equal the head's: what changes the features' numbers
(views do not change the centre view; precision is rounding)."""


@dataclass(frozen=True)
class HeadSource:
    """Where the heads are: exactly one of a run key (prefix), a W&B artifact, a folder."""

    run: str | None = None
    artifact: str | None = None
    folder: Path | None = None


@dataclass(frozen=True)
class Prediction:
    """What was written: the table, the card of the heads that made it, and where."""

    table: pd.DataFrame
    card: HeadCard
    out: Path


def stored_heads_folder(settings: Settings, prefix: str) -> Path:
    """The heads folder of the one stored run whose key starts with ``prefix``."""
    store = ResultsStore(default_store_path(settings), read_only=True)
    keys = [key for key in store.runs()["run_key"] if str(key).startswith(prefix)]
    if len(keys) != 1:
        found = "no run" if not keys else f"{len(keys)} runs"
        raise HeadError(
            f"{found} in {store.path} with a key starting {prefix!r}",
            hint="see radsweep results ls for the run keys; give more of the key",
        )
    folder = heads_folder(store.path, keys[0])
    if not (folder / CARD_FILE).is_file():
        raise HeadError(
            f"run {keys[0]} kept no heads (it was stored before radsweep kept them)",
            hint="train it again under a fresh results folder, or pass --head or --artifact",
        )
    return folder


@contextmanager
def _heads(source: HeadSource, settings: Settings) -> Iterator[Path]:
    """The folder holding the heads (an artifact is downloaded to a temporary one)."""
    if source.folder is not None:
        yield source.folder
    elif source.run is not None:
        yield stored_heads_folder(settings, source.run)
    else:
        assert source.artifact is not None
        from radsweep.tracking.artifacts import download_heads

        with tempfile.TemporaryDirectory(prefix="radsweep-heads-") as folder:
            yield download_heads(source.artifact, Path(folder))


def images_manifest(images: Sequence[Path], card: HeadCard, folder: Path) -> Manifest:
    """A task of ``images`` alone (no labels, no reports), rooted where they all are."""
    paths = [Path(os.path.abspath(image)) for image in images]
    if not paths:
        raise HeadError("no images to predict", hint="pass image files or --task FOLDER")
    root = Path(os.path.commonpath([path.parent for path in paths]))
    task = card.task.model_copy(update={"requires_reports": False})
    ids = [f"{index:08d}" for index in range(len(paths))]
    frame = pd.DataFrame(
        {
            "sample_id": ids,
            "image_path": [str(path.relative_to(root)) for path in paths],
            "report": "",
            "label": 0,
            "patient_id": ids,
            "pool": "eval",
        }
    )
    info = TaskFile(task=task, image_root=str(root))
    return Manifest(folder, info, validate_frame(frame, task, root, check_images=True))


def _request(card: HeadCard) -> ImageRequest:
    config = card.config
    return ImageRequest(
        str(card.backbone),
        config.get("weights"),
        variant=card.variant,
        tiny=bool(config.get("tiny", False)),
        views=ViewPlan(augmented=0),
        pool=card.pool or 1,
    )


def check_features(card: HeadCard, features: ImageFeatures) -> None:
    """One line when the extracted features are not made as the head's were."""
    made = features.spec.model_dump(mode="json")
    wanted = card.image_cache or {}
    differing = [name for name in MATCHED if made.get(name) != wanted.get(name)]
    if differing:
        name = differing[0]
        raise HeadError(
            f"the head was trained on {card.backbone} features with {name} "
            f"{wanted.get(name)!r}, these have {made.get(name)!r}",
            hint=f"make the weights it was trained with ({card.weights}) available as they were "
            "then (radsweep weights fetch or add)",
        )
    width, tokens = int(features.tokens.shape[-1]), int(features.tokens.shape[-2])
    if width != card.feature_dim or (card.tokens is not None and tokens != card.tokens):
        raise HeadError(
            f"features of shape {tokens}x{width} do not fit the head "
            f"({card.tokens or 'CLS'}x{card.feature_dim})",
            hint="use the backbone, variant and pooling the head was trained with",
        )


def probabilities(head: StoredHead, features: ImageFeatures) -> np.ndarray:
    """``[S, N, K]`` for the centre view of every sample, every seed's model."""
    centre = features.cls if head.card.features == "image_cls" else features.tokens
    if centre is None:
        raise HeadError(f"cache {features.key} has no CLS token", hint="use a token head")
    view = torch.from_numpy(np.ascontiguousarray(centre[:1]))
    field = "image_cls" if head.card.features == "image_cls" else "image"
    scores = head.predictor.probabilities(**{field: view})
    if not np.isfinite(scores).all():
        raise HeadError("the head gave non-finite probabilities", hint="check the images")
    return scores


def probability_table(scores: np.ndarray, card: HeadCard) -> pd.DataFrame:
    """One column per (class, seed) and each class's mean over seeds; a binary task keeps its
    positive class (``classes[1]``) only."""
    shown = range(1, 2) if len(card.classes) == 2 else range(len(card.classes))
    columns: dict[str, np.ndarray] = {}
    for k in shown:
        name = card.classes[k]
        for index, seed in enumerate(card.seeds):
            columns[f"{name}_seed{seed}"] = scores[index, :, k]
        columns[f"{name}_mean"] = scores[:, :, k].mean(0)
    return pd.DataFrame(columns)


def predict(
    source: HeadSource,
    settings: Settings,
    out: Path,
    *,
    task: str | None = None,
    images: Sequence[Path] = (),
    device: str | None = None,
    progress: TaskProgress | None = None,
) -> Prediction:
    """Score a task folder (``task``: a name or folder) or ``images`` with the heads of
    ``source`` and write the table to ``out`` (CSV) atomically."""
    if (task is None) == (not images):
        raise HeadError("predict takes a task or image files", hint="pass --task or IMAGES")
    target = resolve_device(device)
    with _heads(source, settings) as folder, tempfile.TemporaryDirectory() as scratch:
        head = load_heads(folder, target)
        card = head.card
        if task is not None:
            manifest = Manifest.load(find_task_directory(task, settings.data), check_images=False)
        else:
            manifest = images_manifest(images, card, Path(scratch))
        done = extract_into_cache(
            manifest,
            settings,
            _request(card),
            device=str(target),
            options=ExtractOptions(wait_for_lock=True),
            progress=progress,
        )
        assert done.image is not None
        features = load_image_features(settings.cache, done.image.key)
        check_features(card, features)
        scores = probabilities(head, features)
    rows = manifest.frame.set_index("sample_id").loc[list(features.sample_ids)]
    paths = [str(manifest.image_root / path) for path in rows["image_path"]]
    ids = {"sample_id": rows.index} if task is not None else {}
    table = pd.concat(
        [pd.DataFrame({**ids, "image_path": paths}), probability_table(scores, card)], axis=1
    )
    write_atomic(out, lambda path: table.to_csv(path, index=False))
    return Prediction(table, card, out)
