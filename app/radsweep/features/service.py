"""Extract a task's features from encoder names: the one path the CLI and the run executor share.

``features.extract`` turns a built encoder and a manifest into a cache; this module does what
comes before (build the named encoders on a device, with the user's weights catalogue) and
reports progress per encoder, so ``radsweep features extract`` and a run's prepare step cannot
drift apart.
"""

from collections.abc import Callable
from dataclasses import dataclass

from radsweep import encoders
from radsweep.devices import resolve_device
from radsweep.errors import RadsweepError
from radsweep.features.extract import (
    CENTRE_ONLY,
    ExtractionResult,
    ExtractOptions,
    Progress,
    extract_image_features,
    extract_text_features,
)
from radsweep.features.views import ViewPlan
from radsweep.settings import Settings
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.registry import find_task_directory
from radsweep.weights.catalogue import catalogue_file

DEFAULT_OPTIONS = ExtractOptions()
TaskProgress = Callable[[str, int, int], None]
"""Called with (what, samples done so far, samples to compute) while an encoder runs."""


@dataclass(frozen=True)
class ImageRequest:
    """An image encoder by name, and the views and pooling of its cache."""

    backbone: str
    weights: str | None = None
    variant: str | None = None
    tiny: bool = False
    views: ViewPlan = CENTRE_ONLY
    pool: int = 1


@dataclass(frozen=True)
class TextRequest:
    """A text encoder by name, and how many report tokens it keeps."""

    encoder: str
    weights: str | None = None
    max_length: int | None = None
    tiny: bool = False


@dataclass(frozen=True)
class TaskExtraction:
    """What was extracted for one task: each cache's key and how much of it was computed."""

    manifest: Manifest
    image: ExtractionResult | None
    text: ExtractionResult | None


def _progress(progress: TaskProgress | None, what: str) -> Progress | None:
    """Adapt the extractor's per-batch counts to running totals labelled ``what``."""
    if progress is None:
        return None
    done = 0

    def advance(finished: int, total: int) -> None:
        nonlocal done
        done += finished
        progress(what, done, total)

    return advance


def extract_into_cache(
    manifest: Manifest,
    settings: Settings,
    image: ImageRequest | None = None,
    text: TextRequest | None = None,
    *,
    device: str | None = None,
    options: ExtractOptions = DEFAULT_OPTIONS,
    progress: TaskProgress | None = None,
) -> TaskExtraction:
    """Build the requested encoders and cache their tokens for ``manifest`` (reusing caches)."""
    target = str(resolve_device(device))
    catalogue = catalogue_file(settings)
    image_result = text_result = None
    if image is not None:
        image_encoder = encoders.build_image_encoder(
            image.backbone,
            image.weights,
            tiny=image.tiny,
            variant=image.variant,
            device=target,
            catalogue=catalogue,
        )
        image_result = extract_image_features(
            image_encoder,
            manifest,
            settings.cache,
            image.views,
            image.pool,
            options,
            _progress(progress, f"{image.backbone} tokens"),
        )
    if text is not None:
        text_encoder = encoders.build_text_encoder(
            text.encoder,
            text.weights,
            tiny=text.tiny,
            max_length=text.max_length,
            catalogue=catalogue,
        )
        text_encoder.to(target)
        text_result = extract_text_features(
            text_encoder,
            manifest,
            settings.cache,
            options,
            _progress(progress, f"{text.encoder} report tokens"),
        )
    return TaskExtraction(manifest, image_result, text_result)


def extract_for_task(
    task: str,
    settings: Settings,
    image: ImageRequest | None = None,
    text: TextRequest | None = None,
    *,
    device: str | None = None,
    options: ExtractOptions = DEFAULT_OPTIONS,
    progress: TaskProgress | None = None,
) -> TaskExtraction:
    """``extract_into_cache`` for a task named in the catalogue or a folder holding task.json."""
    if image is None and text is None:
        raise RadsweepError(
            "nothing to extract", hint="pass --backbone NAME and/or --text-encoder NAME"
        )
    manifest = Manifest.load(find_task_directory(task, settings.data), check_images=False)
    return extract_into_cache(
        manifest, settings, image, text, device=device, options=options, progress=progress
    )
