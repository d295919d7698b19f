"""What the counted work costs: bytes on disk, FLOPs, and hours on a device.

FLOPs come from the architectures: each backbone's forward GFLOPs and each text encoder's depth
are rows of the pretrained table (``radsweep.encoders.pretrained``), heads' FLOPs from their
shapes (the head catalogue). Hours divide FLOPs by a device's sustained throughput (``DEVICES``
or a saved bench).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from radsweep.encoders import EncoderKind
from radsweep.encoders.pretrained import pretrained
from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.sweeps.plan.counting import (
    DEFAULT_TEXT_TOKENS,
    CacheUse,
    Count,
    TaskSize,
    count,
    encoder_info,
    load_specs,
    pooled_tokens,
    train_samples,
)
from radsweep.sweeps.spec import SweepSpec
from radsweep.tasks.spec import TaskSpec
from radsweep.training.config import Method
from radsweep.training.registry import attention_pool_flops, head_spec

# Forward + backward of a head on frozen features: two forwards. Every product's backward needs
# the gradient of its trained operand only (no gradient flows into the cached tokens).
TRAIN_FACTOR = 2
FP16_BYTES = 2
MEASURED_FILE = "bench/device.json"  # under RADSWEEP_HOME: written by `radsweep bench gpu`
PAPER_T4_HOURS = 5000  # the paper's own estimate of its compute (at most 8 h per run on a T4)


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


def plan(specs: Sequence[SweepSpec], data_dir: Path) -> Plan:
    """The plan of ``specs``: runs de-duplicated across them, each cache counted once."""
    return price(count(specs, data_dir))


def load_plan(specs: Sequence[str | Path], every: bool, data_dir: Path) -> Plan:
    """The plan of the named specs (paths or packaged names), or of every study spec."""
    return plan(load_specs(specs, every), data_dir)


def price(counted: Count) -> Plan:
    """The counted runs and caches with their FLOPs and bytes."""
    runs = tuple(
        run_cost(config, counted.tasks[config.task], counted.sizes[config.task])
        for config in counted.runs
    )
    caches = tuple(cache_cost(use) for use in counted.caches)
    return Plan(counted.specs, counted.listed, runs, caches)


def cache_cost(use: CacheUse) -> CacheCost:
    """Bytes (fp16 tokens; text adds a mask byte per token) and extraction FLOPs of a cache."""
    if use.kind is EncoderKind.IMAGE:
        size = use.samples * use.views * use.tokens * use.dim * FP16_BYTES
        flops = use.samples * use.views * backbone_gflops(use.encoder) * 1e9
    else:
        size = use.samples * use.tokens * (use.dim * FP16_BYTES + 1)
        flops = use.samples * bert_flops(use.encoder, use.dim, use.tokens)
    return CacheCost(use.kind, use.task, use.encoder, use.views, use.samples, size, flops)


def backbone_gflops(name: str) -> float:
    """A backbone's forward GFLOPs per image, from its pretrained row."""
    gflops = pretrained(name, "image").gflops
    if gflops is None:  # the table refuses such rows; a row changed after the fact fails here
        raise SweepError(
            f"image encoder {name!r} has no GFLOPs in the pretrained table",
            hint="give its row gflops= (torch.utils.flop_counter, batch 1, at its input size)",
        )
    return gflops


def bert_flops(name: str, dim: int, length: int) -> float:
    """A BERT forward per report: 2 x non-embedding parameters x tokens + attention (4 L^2 D
    per layer), with the depth from the text encoder's pretrained row."""
    layers = pretrained(name, "text").layers
    if layers is None:
        raise SweepError(
            f"text encoder {name!r} has no layer count in the pretrained table",
            hint="give its row layers=",
        )
    return layers * (2 * 12 * dim * dim * length + 4 * length * length * dim)


def run_cost(config: RunConfig, task: TaskSpec, size: TaskSize) -> RunCost:
    """Training: forward+backward per sample, epoch and seed, stage by stage; validation: one
    forward of every validation sample per epoch and seed."""
    seeds = len(config.seeds)
    epochs = config.train_config(task).epochs  # the catalogue's, else the task's table
    train = train_samples(config, task, size)
    stages = _stages(config)
    train_flops, eval_flops = fit_flops(sum(stages), train, size.eval, epochs, seeds)
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
    info = encoder_info(EncoderKind.IMAGE, str(config.backbone))
    return head_spec(config.head).forward_flops(pooled_tokens(info.grid, config.pool), info.dim)


def _text_head_flops(config: RunConfig, head: str | None = None) -> float:
    """The report branch: the attention pool (a teacher's), or ``head`` for a text model."""
    info = encoder_info(EncoderKind.TEXT, str(config.text_encoder))
    tokens = config.max_length or DEFAULT_TEXT_TOKENS
    if head is None:
        return attention_pool_flops(tokens, info.dim)
    return head_spec(head).forward_flops(tokens, info.dim)


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
