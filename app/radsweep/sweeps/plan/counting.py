"""What a set of sweep specs holds: distinct runs, distinct feature caches, task sizes.

The plan counts work the way radsweep does it: configurations de-duplicated across specs (the
Figure 2 image runs reappear in Figure 3), each distinct feature cache extracted once (all views
of all images of a task), and every seed of a run trained in one pass. A built task counts its
manifest; a study task not built yet counts its nominal size from the task catalogue.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from radsweep.encoders import EncoderKind, list_encoders
from radsweep.encoders.base import EncoderInfo
from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.sweeps.packaged import packaged_specs
from radsweep.sweeps.spec import SweepSpec, expand, load_spec
from radsweep.tasks.registry import all_tasks
from radsweep.tasks.spec import RandomSplit, TaskSpec

DEFAULT_TEXT_TOKENS = 256  # text tokens per report when a run sets no max length


@dataclass(frozen=True)
class TaskSize:
    """Images of a task, how many of them each epoch validates on, and whether it is built."""

    images: int
    eval: int
    built: bool


@dataclass(frozen=True)
class CacheUse:
    """One distinct feature cache the runs read: what it holds (not yet what it costs)."""

    kind: EncoderKind
    task: str
    encoder: str
    views: int  # stored views per image (1 centre + augmented)
    samples: int
    tokens: int  # stored tokens per view: the pooled grid (+ CLS), or the text length
    dim: int


@dataclass(frozen=True)
class Count:
    """Every run and cache of the specs, de-duplicated, with the tasks they run on."""

    specs: tuple[str, ...]
    listed: int  # configurations the specs list, before de-duplication across specs
    runs: tuple[RunConfig, ...]
    caches: tuple[CacheUse, ...]
    tasks: Mapping[str, TaskSpec]
    sizes: Mapping[str, TaskSize]
    uploads: frozenset[str] = frozenset()  # canonical configs whose spec uploads their heads


def _on_the_gpu(config: RunConfig, spec: SweepSpec) -> RunConfig:
    """``config`` as the GPU box will run it: expanding resolved an unset precision on this
    machine (fp32 on a CPU), but a spec that names none trains in each device's default."""
    if "precision" in spec.parameters:
        return config
    return config.model_copy(update={"precision": None})


def count(specs: Sequence[SweepSpec], data_dir: Path) -> Count:
    """The runs of ``specs`` de-duplicated across them, and each cache they read counted once."""
    entries = all_tasks(data_dir)
    tasks = {entry.spec.name: entry.spec for entry in entries}
    configs: dict[str, RunConfig] = {}
    uploads: set[str] = set()
    listed = 0
    for spec in specs:
        expanded = [_on_the_gpu(config, spec) for config in expand(spec, tasks)]
        listed += len(expanded)
        for config in expanded:
            configs.setdefault(config.canonical(), config)
            if uploads_heads(spec):
                uploads.add(config.canonical())
    sizes = {entry.spec.name: task_size(entry.spec, entry.directory) for entry in entries}
    caches: dict[tuple[object, ...], CacheUse] = {}
    for config in configs.values():
        for key, cache in caches_of(config, sizes[config.task]):
            caches.setdefault(key, cache)
    names = tuple(spec.name for spec in specs)
    runs = tuple(configs.values())
    return Count(names, listed, runs, tuple(caches.values()), tasks, sizes, frozenset(uploads))


def uploads_heads(spec: SweepSpec) -> bool:
    """Whether the spec's runs upload their trained heads to W&B (``upload_heads: true``; off
    when the spec does not say), as a top-level key or a fixed parameter."""
    stated = getattr(spec, "upload_heads", None)
    if stated is None:
        stated = spec.config.get("upload_heads")
    if stated is None:
        stated = spec.parameters.get("upload_heads", {}).get("value")
    return bool(stated)


def task_size(task: TaskSpec, directory: Path | None) -> TaskSize:
    """A built manifest's row count, else the catalogue's nominal size; validation images by the
    split policy (a fixed pool: its nominal share)."""
    nominal = task.nominal
    counted = _manifest_rows(directory) if directory is not None else None
    images = counted if counted is not None else (nominal.images if nominal else None)
    if images is None:
        return TaskSize(0, 0, False)
    if isinstance(task.split, RandomSplit):
        return TaskSize(images, round(images * task.split.validation_share), counted is not None)
    share = (nominal.evaluation or 0) / nominal.images if nominal else 0.0
    return TaskSize(images, round(images * share), counted is not None)


def _manifest_rows(directory: Path) -> int | None:
    """Rows of a task's manifest from the parquet footer alone; None when there is none."""
    import pyarrow.parquet as pq

    from radsweep.tasks.manifest import MANIFEST_FILE

    table = directory / MANIFEST_FILE
    return int(pq.ParquetFile(table).metadata.num_rows) if table.is_file() else None


def train_samples(config: RunConfig, task: TaskSpec, size: TaskSize) -> int:
    """Training samples at the run's fraction: the paper's table count where it lists one."""
    listed = task.size(config.fraction).study_samples
    if listed is not None and not size.built:
        return listed
    pool = task.fraction_of or (size.images - size.eval)
    return max(1, round(config.fraction * pool))


def caches_of(config: RunConfig, size: TaskSize) -> list[tuple[tuple[object, ...], CacheUse]]:
    """The caches a run reads, each with what tells it apart (the cache key's inputs)."""
    caches: list[tuple[tuple[object, ...], CacheUse]] = []
    if config.backbone is not None:
        info = encoder_info(EncoderKind.IMAGE, config.backbone)
        tokens = pooled_tokens(info.grid, config.pool) + (1 if info.has_cls else 0)
        image_key = ("image", config.task, config.backbone, config.variant, config.weights)
        use = CacheUse(
            EncoderKind.IMAGE,
            config.task,
            config.backbone,
            1 + config.views,
            size.images,
            tokens,
            info.dim,
        )
        caches.append(((*image_key, config.views, config.view_seed, config.pool), use))
    if config.text_encoder is not None:
        info = encoder_info(EncoderKind.TEXT, config.text_encoder)
        length = config.max_length or DEFAULT_TEXT_TOKENS
        text_key = ("text", config.task, config.text_encoder, config.text_weights, length)
        use = CacheUse(
            EncoderKind.TEXT, config.task, config.text_encoder, 1, size.images, length, info.dim
        )
        caches.append((text_key, use))
    return caches


def pooled_tokens(grid: tuple[int, int] | None, pool: int) -> int:
    """Local tokens of a grid after ``pool`` x ``pool`` pooling (1 for a global vector)."""
    if grid is None:
        return 1
    return -(-grid[0] // pool) * -(-grid[1] // pool)


def encoder_info(kind: EncoderKind, name: str) -> EncoderInfo:
    """A registry entry's facts (the spec's checks already found it)."""
    return next(info for info in list_encoders(kind) if info.name == name)


NOT_THE_STUDY = ("demo", "iu-xray")  # the synthetic demo; the public IU X-ray dataset


def study_specs(packaged: Mapping[str, Path]) -> list[Path]:
    """The study's specs: every packaged spec but the demo and the IU X-ray one."""
    return [path for name, path in packaged.items() if name not in NOT_THE_STUDY]


def load_specs(specs: Sequence[str | Path], every: bool) -> list[SweepSpec]:
    """The named specs (paths or packaged names), and every study spec with ``every``."""
    chosen = [*specs, *(study_specs(packaged_specs()) if every else [])]
    if not chosen:
        raise SweepError("no sweep spec to plan", hint="name one or more specs, or pass --all")
    return [load_spec(spec) for spec in chosen]
