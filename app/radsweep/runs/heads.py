"""A trained run's heads on disk: ``heads.safetensors`` plus ``head.json``, saying what they are.

One format for the results store's copy (``RESULTS/heads/RUN_KEY/``, written for every trained
run) and for the W&B artifact (the same two files, uploaded only when asked: ``upload_heads``).
The JSON card names everything a loader needs to rebuild the model and to feed it features made
the same way: the head and method, the backbone with its weights identity and preprocessing,
the feature cache keys, pooling, feature width and token count, the task's classes, the
normalisation the engine applied at load, the run's configuration, seeds and per-seed AUCs. The
weights are every seed's model at its final epoch, stacked over seeds, as ``Predictor`` scores.
"""

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from radsweep import __version__
from radsweep.atomic import shared_mode
from radsweep.errors import HeadError
from radsweep.features.reading import ImageFeatures
from radsweep.runs.config import RunConfig
from radsweep.tasks.spec import TaskSpec
from radsweep.training.config import Method, TrainConfig
from radsweep.training.engine import Predictor
from radsweep.training.heads import build_head
from radsweep.training.registry import head_spec
from radsweep.training.results import FitResult

HEADS_FILE = "heads.safetensors"
CARD_FILE = "head.json"
CARD_FORMAT: Literal[1] = 1
LAYERNORM = "layernorm-without-affine per token, at load"


class HeadCard(BaseModel):
    """``head.json``: what the weights beside it are and how their inputs were made."""

    model_config = ConfigDict(frozen=True)

    format: Literal[1] = CARD_FORMAT
    radsweep: str
    run_key: str
    head: str
    method: str
    backbone: str | None
    variant: str | None
    weights: str | None  # the weights identity the cache was keyed on
    text_encoder: str | None
    cache_keys: tuple[str, ...]
    image_cache: dict[str, Any] | None  # the image cache's spec: encoder, weights, preprocessing
    features: Literal["image", "image_cls"] | None  # the TrainingData field the head reads
    feature_dim: int | None
    tokens: int | None  # tokens per image (after pooling); None for a CLS head
    pool: int | None
    views: int | None
    normalisation: str  # what the engine applied to the features before the head
    classes: tuple[str, ...]  # probability column k is classes[k]
    task: TaskSpec
    config: dict[str, Any]  # RunConfig, canonical
    train_config: dict[str, Any]
    seeds: tuple[int, ...]
    final_auc: tuple[float, ...]  # per seed, on the rows the run was scored on
    scored_rows: tuple[int, ...]


@dataclass(frozen=True)
class StoredHead:
    """A loaded head: its card and a predictor over every seed's model."""

    card: HeadCard
    predictor: Predictor


def heads_folder(store: Path, key: str) -> Path:
    """Where the results store at ``store`` (its SQLite file) keeps a run's heads: beside it."""
    return store.parent / "heads" / key


def make_card(
    key: str,
    config: RunConfig,
    task: TaskSpec,
    result: FitResult,
    image: ImageFeatures | None,
    cache_keys: list[str],
) -> HeadCard:
    """The card of ``result``, a fit of resolved ``config`` on ``image`` (None: text only)."""
    train = result.config
    spec = head_spec(train.head)
    reads = spec.features if image is not None else None
    width = tokens = None
    if image is not None:
        width = int(image.tokens.shape[-1])
        tokens = None if spec.reads_cls else int(image.tokens.shape[-2])
    return HeadCard(
        radsweep=__version__,
        run_key=key,
        head=str(train.head),
        method=str(train.method),
        backbone=config.backbone,
        variant=config.variant,
        weights=image.spec.weights if image is not None else None,
        text_encoder=config.text_encoder,
        cache_keys=tuple(cache_keys),
        image_cache=image.spec.model_dump(mode="json") if image is not None else None,
        features=reads,
        feature_dim=width,
        tokens=tokens,
        pool=config.pool if image is not None else None,
        views=config.views if image is not None else None,
        normalisation=LAYERNORM if train.normalise_tokens else "none",
        classes=task.classes,
        task=task,
        config=json.loads(config.canonical()),
        train_config=train.model_dump(mode="json"),
        seeds=result.seeds,
        final_auc=tuple(float(auc) for auc in result.model.final_auc),
        scored_rows=result.validation_sizes,
    )


def save_heads(folder: Path, card: HeadCard, result: FitResult) -> None:
    """Write the card and every seed's final weights to ``folder`` atomically (a whole folder
    appears or none); a folder already there is the same run's and is kept."""
    if result.predictor is None or (folder / CARD_FILE).is_file():
        return
    state = result.predictor.model.state_dict()
    tensors = {name: value.detach().cpu().contiguous() for name, value in state.items()}
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        save_file(tensors, str(temporary / HEADS_FILE), metadata={"run_key": card.run_key})
        (temporary / CARD_FILE).write_text(card.model_dump_json(indent=2) + "\n", "utf-8")
        for path in temporary.iterdir():
            os.chmod(path, shared_mode())
        os.chmod(temporary, shared_mode() | 0o111)  # mkdtemp's 0700 would hide it from others
        try:
            os.replace(temporary, folder)
        except OSError:  # another worker published the same run's heads first
            if not (folder / CARD_FILE).is_file():
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def read_card(folder: Path) -> HeadCard:
    """The card in ``folder``, or a one-line error naming what is wrong."""
    path = folder / CARD_FILE
    if not path.is_file():
        raise HeadError(
            f"no {CARD_FILE} in {folder}",
            hint=f"pass a folder holding {CARD_FILE} and {HEADS_FILE} (a run's heads)",
        )
    try:
        return HeadCard.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValidationError) as error:
        detail = " ".join(str(error).split())[:200]
        raise HeadError(f"cannot read {path}: {detail}", hint="download the heads again") from error


def load_heads(folder: Path, device: torch.device | None = None) -> StoredHead:
    """Rebuild the stacked model of ``folder``'s card and load its weights (image models only:
    a teacher or text-only model reads reports, which prediction never takes)."""
    card = read_card(folder)
    method = Method(card.method)
    if not method.needs_image or method is Method.TEACHER or card.feature_dim is None:
        raise HeadError(
            f"run {card.run_key} is a {method} model: it reads reports",
            hint="predict applies image models (image, distill, self-distill students)",
        )
    try:
        tensors = load_file(str(folder / HEADS_FILE))
    except (OSError, SafetensorError) as error:
        raise HeadError(
            f"cannot read {folder / HEADS_FILE}: {error}", hint="download the heads again"
        ) from error
    train = TrainConfig.model_validate(card.train_config)
    generators = [torch.Generator() for _ in card.seeds]
    model = build_head(method, card.head, card.feature_dim, None, len(card.classes), generators)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as error:
        raise HeadError(
            f"{folder / HEADS_FILE} does not fit head {card.head} of width {card.feature_dim}",
            hint="the weights and head.json come from different runs: download them again",
        ) from error
    target = device or torch.device("cpu")
    predictor = Predictor(model.to(target).eval(), train, len(card.classes), target)
    return StoredHead(card, predictor)
