"""What a set of sweep specs will cost before anything runs: runs, caches, disk, FLOPs, hours.

The plan counts work the way radsweep does it: configurations de-duplicated across specs (the
Figure 2 image runs reappear in Figure 3), each distinct feature cache extracted once (all
views of all images of a task), and every seed of a run trained in one pass. FLOPs come from the
architectures (``BACKBONE_GFLOPS``, counted with ``torch.utils.flop_counter``; heads from their
shapes); hours divide them by a device's sustained throughput (``DEVICES`` or a saved bench).
"""

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from radsweep.encoders import EncoderKind, list_encoders
from radsweep.encoders.base import EncoderInfo
from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.packaged import packaged_specs
from radsweep.sweeps.spec import SweepSpec, expand, load_spec
from radsweep.tasks.registry import all_tasks
from radsweep.tasks.spec import RandomSplit, TaskSpec
from radsweep.training.config import Method
from radsweep.training.registry import attention_pool_flops, head_spec

# Forward GFLOPs per image at the paper's input size (FlopCounterMode, batch 1; 2 per MAC).
BACKBONE_GFLOPS = {
    "rad-dino": 303.15,  # ViT-B/14 at 518: 1,369 patch tokens
    "c2l": 3.63,  # ResNet-18 at 224
    "medical-mae": 35.13,  # ViT-B/16 at 224
    "mrm": 35.13,
    "biovil-t": 32.70,  # ResNet-50 at 448
    "gloria": 8.17,  # ResNet-50 at 224 (the paper's variant)
    "biomedclip": 35.13,
}
# BERT forward per report: 2 x non-embedding parameters x tokens + attention (4 L^2 D per layer).
TEXT_LAYERS = {"biovil-t": 12, "cxr-bert-general": 12, "bio-clinicalbert": 12, "minilm": 6}
DEFAULT_TEXT_TOKENS = 256
# Forward + backward of a head on frozen features: two forwards. Every product's backward needs
# the gradient of its trained operand only (no gradient flows into the cached tokens).
TRAIN_FACTOR = 2
FP16_BYTES = 2

# Images per task as the paper builds it, and how many of them each epoch validates on.
# MIMIC 5x1200: 5 x 1,200 (200 per class evaluated); PE: the paper's 9,375; the others from the
# paper's largest training size / fraction / (1 - validation share) (its Tables 3-6).
NOMINAL_IMAGES = {
    "mimic-5x1200": 6000,
    "age": 35222,
    "3-day-discharge": 18422,
    "12-month-ph": 5451,
    "readmission": 5651,
    "pe": 9375,
}
FIXED_POOL_EVAL = {"mimic-5x1200": 1000}


@dataclass(frozen=True)
class Device:
    """Sustained throughput (TFLOP/s) of one device for extraction and for head training."""

    name: str
    extract_tflops: float
    train_tflops: float
    source: str


# Peak dense tensor throughput (bf16/fp16, vendor data sheets) times the share a frozen ViT's
# inference (50 %) and small-head training (25 %) sustain; measured numbers replace these.
DEVICES = {
    "h100": Device("H100 SXM", 989 * 0.5, 989 * 0.25, "nominal: 989 TFLOP/s bf16 peak"),
    "a100": Device("A100 SXM", 312 * 0.5, 312 * 0.25, "nominal: 312 TFLOP/s bf16 peak"),
    "l4": Device("L4", 121 * 0.5, 121 * 0.25, "nominal: 121 TFLOP/s bf16 peak"),
    "t4": Device("T4", 65 * 0.5, 65 * 0.25, "nominal: 65 TFLOP/s fp16 peak"),
}


@dataclass(frozen=True)
class CacheCost:
    """One distinct feature cache: what it holds, its size on disk, its extraction FLOPs."""

    kind: EncoderKind
    task: str
    encoder: str
    views: int  # stored views per image (1 centre + augmented)
    samples: int
    bytes: int
    flops: float


@dataclass(frozen=True)
class RunCost:
    """One run (all its seeds): training and per-epoch validation FLOPs."""

    config: RunConfig
    train_flops: float
    eval_flops: float


@dataclass(frozen=True)
class Plan:
    """Every run and cache of the specs, de-duplicated, with their totals."""

    specs: tuple[str, ...]
    listed: int  # configurations the specs list, before de-duplication across specs
    runs: tuple[RunCost, ...]
    caches: tuple[CacheCost, ...]

    @property
    def cache_bytes(self) -> int:
        return sum(cache.bytes for cache in self.caches)

    @property
    def extract_flops(self) -> float:
        return sum(cache.flops for cache in self.caches)

    @property
    def train_flops(self) -> float:
        return sum(run.train_flops for run in self.runs)

    @property
    def eval_flops(self) -> float:
        return sum(run.eval_flops for run in self.runs)

    def hours(self, device: Device) -> tuple[float, float]:
        """(extraction, training incl. validation) hours on ``device``."""
        extract = self.extract_flops / (device.extract_tflops * 1e12) / 3600
        train = (self.train_flops + self.eval_flops) / (device.train_tflops * 1e12) / 3600
        return extract, train


@dataclass(frozen=True)
class TaskSize:
    images: int
    eval: int
    built: bool


def plan(specs: Sequence[SweepSpec], data_dir: Path) -> Plan:
    """The plan of ``specs``: runs de-duplicated across them, each cache counted once."""
    entries = all_tasks(data_dir)
    tasks = {entry.spec.name: entry.spec for entry in entries}
    configs: dict[str, RunConfig] = {}
    listed = 0
    for spec in specs:
        expanded = expand(spec, tasks)
        listed += len(expanded)
        for config in expanded:
            configs.setdefault(config.canonical(), config)
    sizes = {entry.spec.name: _task_size(entry.spec, entry.directory) for entry in entries}
    runs = [
        _run_cost(config, tasks[config.task], sizes[config.task]) for config in configs.values()
    ]
    caches: dict[tuple[object, ...], CacheCost] = {}
    for config in configs.values():
        for key, cache in _caches(config, sizes[config.task]):
            caches.setdefault(key, cache)
    return Plan(tuple(spec.name for spec in specs), listed, tuple(runs), tuple(caches.values()))


def _task_size(task: TaskSpec, directory: Path | None) -> TaskSize:
    """A built manifest's row count, else the paper's; validation images by the split policy."""
    nominal = NOMINAL_IMAGES.get(task.name)
    counted = _manifest_rows(directory) if directory is not None else None
    images = counted if counted is not None else nominal
    if images is None:
        return TaskSize(0, 0, False)
    if isinstance(task.split, RandomSplit):
        return TaskSize(images, round(images * task.split.validation_share), counted is not None)
    share = FIXED_POOL_EVAL.get(task.name, 0) / (nominal or images)
    return TaskSize(images, round(images * share), counted is not None)


def _manifest_rows(directory: Path) -> int | None:
    """Rows of a task's manifest from the parquet footer alone; None when there is none."""
    import pyarrow.parquet as pq

    from radsweep.tasks.manifest import MANIFEST_FILE

    table = directory / MANIFEST_FILE
    return int(pq.ParquetFile(table).metadata.num_rows) if table.is_file() else None


def _train_samples(config: RunConfig, task: TaskSpec, size: TaskSize) -> int:
    """Training samples at the run's fraction: the paper's table count where it lists one."""
    listed = task.size(config.fraction).study_samples
    if listed is not None and not size.built:
        return listed
    pool = task.fraction_of or (size.images - size.eval)
    return max(1, round(config.fraction * pool))


def _caches(config: RunConfig, size: TaskSize) -> list[tuple[tuple[object, ...], CacheCost]]:
    """The caches a run reads, each with what tells it apart (the cache key's inputs)."""
    caches = []
    if config.backbone is not None:
        info = _info(EncoderKind.IMAGE, config.backbone)
        views = 1 + config.views
        tokens = _tokens(info.grid, config.pool) + (1 if info.has_cls else 0)
        image_key = ("image", config.task, config.backbone, config.variant, config.weights)
        caches.append(
            (
                (*image_key, config.views, config.view_seed, config.pool),
                CacheCost(
                    EncoderKind.IMAGE,
                    config.task,
                    config.backbone,
                    views,
                    size.images,
                    size.images * views * tokens * info.dim * FP16_BYTES,
                    size.images * views * BACKBONE_GFLOPS.get(config.backbone, 0.0) * 1e9,
                ),
            )
        )
    if config.text_encoder is not None:
        info = _info(EncoderKind.TEXT, config.text_encoder)
        length = config.max_length or DEFAULT_TEXT_TOKENS
        text_key = ("text", config.task, config.text_encoder, config.text_weights, length)
        caches.append(
            (
                text_key,
                CacheCost(
                    EncoderKind.TEXT,
                    config.task,
                    config.text_encoder,
                    1,
                    size.images,
                    size.images * length * (info.dim * FP16_BYTES + 1),
                    size.images * _bert_flops(config.text_encoder, info.dim, length),
                ),
            )
        )
    return caches


def _tokens(grid: tuple[int, int] | None, pool: int) -> int:
    if grid is None:
        return 1
    return -(-grid[0] // pool) * -(-grid[1] // pool)


def _bert_flops(name: str, dim: int, length: int) -> float:
    layers = TEXT_LAYERS.get(name.removesuffix("-sentences"), 12)
    return layers * (2 * 12 * dim * dim * length + 4 * length * length * dim)


def _run_cost(config: RunConfig, task: TaskSpec, size: TaskSize) -> RunCost:
    """Training: forward+backward per sample, epoch and seed, stage by stage; validation: one
    forward of every validation sample per epoch and seed."""
    seeds = len(config.seeds)
    epochs = config.epochs or task.size(config.fraction).epochs
    train = _train_samples(config, task, size)
    stages = _stages(config)
    per_sample = sum(stages)
    train_flops, eval_flops = fit_flops(per_sample, train, size.eval, epochs, seeds)
    if config.method.distils:  # the teacher's soft targets for every training row
        train_flops += stages[0] * train * seeds
    return RunCost(config, train_flops, eval_flops)


def fit_flops(
    forward: float, train: int, validation: int, epochs: int, seeds: int
) -> tuple[float, float]:
    """(training, validation) FLOPs of one fit: every seed trains on ``train`` samples and
    validates on ``validation`` samples each epoch, a head forward costing ``forward``."""
    return (
        TRAIN_FACTOR * forward * train * epochs * seeds,
        forward * validation * epochs * seeds,
    )


def _stages(config: RunConfig) -> list[float]:
    """Forward FLOPs per sample of each training stage (teacher first when it distils)."""
    image = _image_head_flops(config) if config.backbone else 0.0
    text = _text_head_flops(config) if config.text_encoder else 0.0
    method = config.method
    if method is Method.IMAGE:
        return [image]
    if method is Method.TEXT:  # the text model's own head: attention pool or linear probe
        return [_text_head_flops(config, config.head)]
    if method is Method.TEACHER:
        return [image + text]
    if method is Method.DISTILL:
        return [image + text, image]
    return [image, image]


def _image_head_flops(config: RunConfig) -> float:
    info = _info(EncoderKind.IMAGE, str(config.backbone))
    tokens = _tokens(info.grid, config.pool)
    return head_spec(config.head).forward_flops(tokens, info.dim)


def _text_head_flops(config: RunConfig, head: str | None = None) -> float:
    """The report branch: the attention pool (a teacher's), or ``head`` for a text model."""
    info = _info(EncoderKind.TEXT, str(config.text_encoder))
    tokens = config.max_length or DEFAULT_TEXT_TOKENS
    if head is None:
        return attention_pool_flops(tokens, info.dim)
    return head_spec(head).forward_flops(tokens, info.dim)


def _info(kind: EncoderKind, name: str) -> EncoderInfo:
    """A registry entry's facts (the spec's checks already found it)."""
    return next(info for info in list_encoders(kind) if info.name == name)


def study_specs(packaged: Mapping[str, Path]) -> list[Path]:
    """The study's specs: every packaged spec but the demo."""
    return [path for name, path in packaged.items() if name != "demo"]


MEASURED_FILE = "bench/device.json"  # under RADSWEEP_HOME: written by `radsweep bench gpu`
PAPER_T4_HOURS = 5000  # the paper's own estimate of its compute (at most 8 h per run on a T4)


def load_plan(specs: Sequence[str | Path], every: bool, data_dir: Path) -> Plan:
    """The plan of the named specs (paths or packaged names), or of every study spec."""
    chosen = [*specs, *(study_specs(packaged_specs()) if every else [])]
    if not chosen:
        raise SweepError("no sweep spec to plan", hint="name one or more specs, or pass --all")
    return plan([load_spec(spec) for spec in chosen], data_dir)


def measured_device(home: Path) -> Device | None:
    """The throughput ``radsweep bench gpu`` measured on this machine, if it saved one."""
    path = home.expanduser() / MEASURED_FILE
    if not path.is_file():
        return None
    try:
        return Device(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise SweepError(
            f"{path}: not a saved bench result", hint="delete it, or rerun `radsweep bench gpu`"
        ) from error


def choose_devices(name: str | None, home: Path) -> list[Device]:
    """The devices to project onto: one by name (``measured`` = the saved bench), else all."""
    measured = measured_device(home)
    known = {**DEVICES, **({"measured": measured} if measured else {})}
    if name is None:
        return [*([measured] if measured else []), *DEVICES.values()]
    if name.lower() not in known:
        raise SweepError(
            f"no throughput for device {name!r}",
            hint=f"choose one of {', '.join(known)} (run `radsweep bench gpu` to measure this one)",
        )
    return [known[name.lower()]]


@dataclass(frozen=True)
class DiskCheck:
    """Whether the plan's caches fit on the disk that will hold them."""

    folder: Path  # the cache folder, or its nearest existing parent
    free: int
    needed: int

    @classmethod
    def of(cls, cache: Path, needed: int) -> "DiskCheck":
        folder = next(p for p in (cache, *cache.parents) if p.exists())
        return cls(folder, shutil.disk_usage(folder).free, needed)

    @property
    def fits(self) -> bool:
        return self.free >= self.needed


@dataclass(frozen=True)
class PlanReport:
    """A plan with the devices it is projected onto and its disk check: what ``sweep plan``
    prints as lines or as one JSON record."""

    plan: Plan
    devices: list[Device]
    disk: DiskCheck

    def caches(self) -> list[CacheCost]:
        return sorted(self.plan.caches, key=lambda cache: (cache.kind, cache.task, cache.encoder))

    def record(self) -> dict[str, object]:
        planned, disk = self.plan, self.disk
        return {
            "specs": list(planned.specs),
            "runs": {"distinct": len(planned.runs), "listed": planned.listed},
            "caches": [asdict(cache) for cache in self.caches()],
            "disk": {
                "cache_bytes": disk.needed,
                "free_bytes": disk.free,
                "folder": disk.folder,
                "fits": disk.fits,
            },
            "flops": {
                "extraction": planned.extract_flops,
                "training": planned.train_flops,
                "validation": planned.eval_flops,
            },
            "devices": [
                asdict(device) | {"hours": _hours(*planned.hours(device))}
                for device in self.devices
            ],
            "paper_t4_hours": PAPER_T4_HOURS,
        }

    def lines(self) -> list[str]:
        planned, disk = self.plan, self.disk
        lines = [
            f"specs: {', '.join(planned.specs)}",
            f"runs: {len(planned.runs)} distinct ({planned.listed} listed; "
            f"{planned.listed - len(planned.runs)} shared between specs)",
            f"feature caches: {len(planned.caches)}",
        ]
        for item in self.caches():
            lines.append(
                f"  {item.kind:<5} {item.task:<16} {item.encoder:<17} {item.samples:>7} x "
                f"{item.views} view(s)  {_size(item.bytes):>9}"
            )
        verdict = "fits" if disk.fits else "DOES NOT FIT"
        lines += [
            f"disk: {_size(disk.needed)} of caches; {_size(disk.free)} free at {disk.folder} "
            f"({verdict})",
            f"FLOPs: extraction {planned.extract_flops:.3g}, training {planned.train_flops:.3g}, "
            f"validation {planned.eval_flops:.3g}",
        ]
        for device in self.devices:
            extract, train = planned.hours(device)
            lines.append(
                f"{device.name}: {extract + train:,.1f} h (extraction {extract:,.2f} h, training "
                f"{train:,.1f} h) [{device.source}]"
            )
        lines.append(f"the paper: about {PAPER_T4_HOURS:,} T4-hours for the whole study")
        return lines


def plan_report(
    specs: Sequence[str | Path], every: bool, settings: Settings, device: str | None = None
) -> PlanReport:
    """``sweep plan``: the specs' (or the whole study's) plan, devices and disk check."""
    planned = load_plan(specs, every, settings.data)
    devices = choose_devices(device, settings.home)
    return PlanReport(planned, devices, DiskCheck.of(settings.cache, planned.cache_bytes))


def _hours(extract: float, train: float) -> dict[str, float]:
    return {"extraction": extract, "training": train, "total": extract + train}


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
