"""What the counted work is, in device-independent units: bytes on disk, FLOPs, steps, memory.

FLOPs come from the architectures: each backbone's forward GFLOPs and each text encoder's depth
are rows of the pretrained table (``radsweep.encoders.pretrained``), heads' FLOPs from their
shapes (the head catalogue). Each run is split into its stages (a model, or a teacher and a
student), each with what the engine really does: every seed's batches padded to the step's
batch size, the attention maps' D^3 product once per step and per validation chunk, the T^2
attention weights of every sample, validation after every epoch. ``projection`` turns this into
hours on a device.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from radsweep.encoders import EncoderKind
from radsweep.encoders.pretrained import pretrained
from radsweep.errors import SweepError
from radsweep.runs.config import MAX_SEEDS, RunConfig
from radsweep.sweeps.plan.counting import (
    DEFAULT_TEXT_TOKENS,
    CacheUse,
    Count,
    TaskSize,
    caches_of,
    count,
    encoder_info,
    load_specs,
    pooled_tokens,
    train_samples,
)
from radsweep.sweeps.spec import SweepSpec
from radsweep.tasks.spec import TaskSpec
from radsweep.training.config import Method
from radsweep.training.registry import (
    HeadKind,
    attention_maps_flops,
    attention_pool_flops,
    head_spec,
)

# Forward + backward of a head on frozen features, per sample: two forwards. Every product's
# backward needs the gradient of its trained operand only (no gradient flows into the cached
# tokens). The attention maps (``attention_maps_flops``) train both operands: three forwards.
TRAIN_FACTOR = 2
MAPS_TRAIN_FACTOR = 3
FP16_BYTES = 2
EVAL_CHUNK = 256  # rows per validation forward (the engine's ``_EVAL_BATCH``)
MEASURED_FILE = "bench/device.json"  # the legacy throughput file of `radsweep bench gpu`
PAPER_T4_HOURS = 5000  # the paper's own estimate of its compute (at most 8 h per run on a T4)


@dataclass(frozen=True)
class Device:
    """Sustained throughput (TFLOP/s) of one device, as ``radsweep bench gpu`` summarises its
    measurement (``Plan.hours``); ``sweep plan`` prices with ``devices.DeviceSpec``."""

    name: str
    extract_tflops: float
    train_tflops: float
    source: str


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
class Pool:
    """One attention pool of a head: its tokens and their width."""

    tokens: int
    dim: int


@dataclass(frozen=True)
class Stage:
    """One trained stage of a run (a model, a teacher or a student), all its seeds.

    Rows are per seed: ``train_rows`` per epoch as the engine computes them (every seed's
    batches padded to ``batch``), ``eval_rows`` per validated epoch, ``target_rows`` the
    teacher's soft-target pass over the training rows of every training view.
    """

    name: str
    forward: float  # FLOPs per sample, the per-pass maps aside
    pools: tuple[Pool, ...]
    token_values: int  # frozen token values each sample gathers
    seeds: int
    batch: int
    steps: int  # per epoch
    epochs: int
    eval_rows: int
    target_rows: int = 0

    @property
    def train_rows(self) -> int:
        return self.steps * self.batch

    @property
    def eval_chunks(self) -> int:
        """Validation forwards per validated epoch."""
        return -(-self.eval_rows // EVAL_CHUNK)

    @property
    def target_chunks(self) -> int:
        return -(-self.target_rows // EVAL_CHUNK)

    @property
    def maps(self) -> float:
        return sum(attention_maps_flops(pool.dim) for pool in self.pools)

    @property
    def squares(self) -> int:
        """T^2 attention weights per sample, over the stage's pools."""
        return sum(pool.tokens**2 for pool in self.pools)

    @property
    def train_forward(self) -> float:
        """Training FLOPs per sample: forward and backward; an attention pool's value map
        trains both operands (the pooled vector depends on trained weights): 2 D^2 more."""
        return TRAIN_FACTOR * self.forward + sum(2.0 * pool.dim**2 for pool in self.pools)

    @property
    def train_flops(self) -> float:
        per_epoch = self.train_forward * self.train_rows
        per_epoch += MAPS_TRAIN_FACTOR * self.maps * self.steps
        return per_epoch * self.epochs * self.seeds

    @property
    def eval_flops(self) -> float:
        epochs = (self.forward * self.eval_rows + self.maps * self.eval_chunks) * self.epochs
        targets = self.forward * self.target_rows + self.maps * self.target_chunks
        return (epochs + targets) * self.seeds


@dataclass(frozen=True)
class RunCost:
    """One run: its stages, the bytes it reads and uploads, the features it keeps on device."""

    config: RunConfig
    stages: tuple[Stage, ...]
    shared_teacher: bool  # its teacher is trained once, by an earlier run with the same one
    rows_read: int  # bytes of the rows it loads (every view), once per run
    resident: int  # bytes of features the engine keeps on the device
    parameters: int  # per seed, of the model it ends with
    upload: int  # bytes of heads uploaded to W&B (0 unless its spec asks)
    students: int = 1  # runs whose students train in one pass with its own (itself included)

    @property
    def kept_heads(self) -> int:
        """Bytes of the heads the results store keeps for ``radsweep predict`` (every seed)."""
        return self.parameters * 4 * len(self.config.seeds)

    @property
    def train_flops(self) -> float:
        return sum(stage.train_flops for stage in self.stages)

    @property
    def eval_flops(self) -> float:
        return sum(stage.eval_flops for stage in self.stages)


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
    def finite_check_bytes(self) -> int:
        """Bytes read for the caches' NaN/inf check: each cache once at most (extraction
        records it as it writes; a copied cache, or one from an older radsweep, is read once
        and recorded), never once per run."""
        return self.cache_bytes

    @property
    def extract_flops(self) -> float:
        return sum(cache.flops for cache in self.caches)

    @property
    def train_flops(self) -> float:
        return sum(run.train_flops for run in self.runs)

    @property
    def eval_flops(self) -> float:
        return sum(run.eval_flops for run in self.runs)

    @property
    def shared_teachers(self) -> int:
        return sum(run.shared_teacher for run in self.runs)

    @property
    def rows_read(self) -> int:
        """Bytes of rows the runs load: once per pass where students train together."""
        return round(sum(run.rows_read / run.students for run in self.runs))

    @property
    def grouped_students(self) -> int:
        """Runs whose student trains in one pass with other students of its τ/λ grid."""
        return sum(run.students > 1 for run in self.runs)

    @property
    def upload_bytes(self) -> int:
        return sum(run.upload for run in self.runs)

    @property
    def kept_heads_bytes(self) -> int:
        return sum(run.kept_heads for run in self.runs)

    def hours(self, device: Device) -> tuple[float, float]:
        """(extraction, training incl. validation) hours at ``device``'s FLOP rates alone."""
        extract = self.extract_flops / (device.extract_tflops * 1e12) / 3600
        train = (self.train_flops + self.eval_flops) / (device.train_tflops * 1e12) / 3600
        return extract, train


def plan(specs: Sequence[SweepSpec], data_dir: Path, grouped: bool = True) -> Plan:
    """The plan of ``specs``: runs de-duplicated across them, each cache counted once; with
    ``grouped``, a τ/λ grid's students trained in one pass, as ``sweep local`` trains them."""
    return price(count(specs, data_dir), grouped)


def load_plan(
    specs: Sequence[str | Path], every: bool, data_dir: Path, grouped: bool = True
) -> Plan:
    """The plan of the named specs (paths or packaged names), or of every study spec."""
    return plan(load_specs(specs, every), data_dir, grouped)


def price(counted: Count, grouped: bool = True) -> Plan:
    """The counted runs and caches with their work; a teacher shared by several distillation
    runs (equal ``teacher_identity``) is trained by the first of them only. With ``grouped``
    each run knows how many students train in its pass (``student_groups``)."""
    trained: set[str] = set()
    sizes = student_groups(counted.runs) if grouped else {}
    runs = []
    for config in counted.runs:
        identity = config.teacher_identity()
        shared = identity is not None and identity in trained
        if identity is not None:
            trained.add(identity)
        task, size = counted.tasks[config.task], counted.sizes[config.task]
        uploads = config.canonical() in counted.uploads or bool(
            getattr(config, "upload_heads", False)
        )
        cost = run_cost(config, task, size, shared=shared, uploads=uploads)
        runs.append(replace(cost, students=sizes.get(config.canonical(), 1)))
    return Plan(counted.specs, counted.listed, tuple(runs), tuple(map(cache_cost, counted.caches)))


def student_groups(configs: Sequence[RunConfig]) -> dict[str, int]:
    """Per run (canonical config), how many students train in its pass as ``sweep local``
    claims them: runs with one ``student_group_key``, in passes of at most ``MAX_SEEDS``
    members (students x seeds). W&B agents pull one configuration at a time: no groups."""
    groups: dict[str, list[RunConfig]] = {}
    for config in configs:
        key = config.student_group_key()
        if key is not None:
            groups.setdefault(key, []).append(config)
    sizes: dict[str, int] = {}
    for members in groups.values():
        room = max(1, MAX_SEEDS // len(members[0].seeds))
        for start in range(0, len(members), room):
            passed = members[start : start + room]
            sizes |= {config.canonical(): len(passed) for config in passed}
    return sizes


def cache_cost(use: CacheUse) -> CacheCost:
    """Bytes (fp16 tokens; text adds a mask byte per token) and extraction FLOPs of a cache."""
    size = cache_bytes(use)
    if use.kind is EncoderKind.IMAGE:
        flops = use.samples * use.views * backbone_gflops(use.encoder) * 1e9
    else:
        flops = use.samples * bert_flops(use.encoder, use.dim, use.tokens)
    return CacheCost(use.kind, use.task, use.encoder, use.views, use.samples, size, flops)


def cache_bytes(use: CacheUse) -> int:
    return use.samples * row_bytes(use)


def row_bytes(use: CacheUse) -> int:
    """Bytes of one sample of a cache: fp16 tokens of every view (text: and a mask byte)."""
    if use.kind is EncoderKind.IMAGE:
        return use.views * use.tokens * use.dim * FP16_BYTES
    return use.tokens * (use.dim * FP16_BYTES + 1)


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


def run_cost(
    config: RunConfig,
    task: TaskSpec,
    size: TaskSize,
    *,
    shared: bool = False,
    uploads: bool = False,
) -> RunCost:
    """A run's stages (a shared teacher left out), and what it reads, keeps and uploads."""
    seeds = len(config.seeds)
    train_config = config.train_config(task)  # epochs: the catalogue's, else the task's table
    train = train_samples(config, task, size)
    steps = -(-train // train_config.batch_size)
    views = max(1, config.views)  # training views: the augmented ones, else the centre view
    used = min(size.images, seeds * train + size.eval) if size.images else train + size.eval
    uses = [use for _, use in caches_of(config, size)]
    head = _Branches(config)
    stages = []
    for name, branches in head.stages():
        if name == "teacher" and shared:
            continue
        targets = train * views if name == "teacher" else 0
        epochs = train_config.teacher_config().epochs if name == "teacher" else train_config.epochs
        forward = sum(branch.forward for branch in branches)
        pools = tuple(pool for branch in branches for pool in branch.pools)
        values = sum(branch.values for branch in branches)
        stages.append(
            Stage(
                name,
                forward,
                pools,
                values,
                seeds,
                train_config.batch_size,
                steps,
                epochs,
                size.eval,
                targets,
            )
        )
    parameters = head_parameters(config, len(task.classes))
    return RunCost(
        config=config,
        stages=tuple(stages),
        shared_teacher=shared,
        rows_read=sum(used * row_bytes(use) for use in uses),
        resident=sum(used * _resident_row(config, use) for use in uses),
        parameters=parameters,
        upload=parameters * 4 * seeds if uploads else 0,
    )


def _resident_row(config: RunConfig, use: CacheUse) -> int:
    """Bytes of one sample the engine keeps on the device: the tokens in the cache's fp16 for a
    head that reads every token, one float32 vector per view for a probe; text with its mask."""
    if use.kind is EncoderKind.TEXT:
        return use.tokens * (use.dim * FP16_BYTES + 1)
    if head_spec(config.head).pool is None:
        return use.views * use.tokens * use.dim * FP16_BYTES
    return use.views * use.dim * 4


@dataclass(frozen=True)
class _Branch:
    """One input branch of a head: forward FLOPs per sample, its attention pools, the token
    values it gathers per sample."""

    forward: float
    pools: tuple[Pool, ...]
    values: int


class _Branches:
    """The branches each stage of a run's method trains (teacher first when it distils)."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config

    def stages(self) -> list[tuple[str, list[_Branch]]]:
        method = self.config.method
        if method is Method.IMAGE:
            return [("model", [self.image()])]
        if method is Method.TEXT:
            return [("model", [self.text(self.config.head)])]
        if method is Method.TEACHER:
            return [("model", [self.image(), self.text()])]
        if method is Method.DISTILL:
            return [("teacher", [self.image(), self.text()]), ("student", [self.image()])]
        return [("teacher", [self.image()]), ("student", [self.image()])]

    def image(self) -> _Branch:
        info = encoder_info(EncoderKind.IMAGE, str(self.config.backbone))
        tokens = pooled_tokens(info.grid, self.config.pool)
        spec = head_spec(self.config.head)
        forward = spec.forward_flops(tokens, info.dim)
        if spec.pool is not None:  # a probe reads one pooled vector per sample
            return _Branch(forward, (), info.dim)
        return _Branch(forward, (Pool(tokens, info.dim),), tokens * info.dim)

    def text(self, head: str | None = None) -> _Branch:
        """The report branch: the attention pool (a teacher's), or ``head`` for a text model."""
        info = encoder_info(EncoderKind.TEXT, str(self.config.text_encoder))
        tokens = self.config.max_length or DEFAULT_TEXT_TOKENS
        if head is None or head == HeadKind.ATTENTION:
            pool = Pool(tokens, info.dim)
            return _Branch(attention_pool_flops(tokens, info.dim), (pool,), tokens * info.dim)
        return _Branch(head_spec(head).forward_flops(tokens, info.dim), (), tokens * info.dim)


def head_parameters(config: RunConfig, classes: int) -> int:
    """Trained parameters per seed of the model a run ends with (``training.heads``)."""
    method = config.method
    if method is Method.TEXT:
        dim = encoder_info(EncoderKind.TEXT, str(config.text_encoder)).dim
        branch = _pool_parameters(dim) if config.head == HeadKind.ATTENTION else 2 * dim
        return branch + dim * classes + classes
    image = encoder_info(EncoderKind.IMAGE, str(config.backbone)).dim
    branch = _pool_parameters(image) if head_spec(config.head).pool is None else 2 * image
    if method is Method.TEACHER:
        text = encoder_info(EncoderKind.TEXT, str(config.text_encoder)).dim
        joint = image + text
        return branch + _pool_parameters(text) + 2 * joint + joint * classes + classes
    return branch + image * classes + classes


def qkv_map_values(dim: int) -> int:
    """Values per seed of a pool's Q/K/V map (3 D^2): the largest tensor a head trains."""
    return 3 * dim * dim


def _pool_parameters(dim: int) -> int:
    """LayerNorm (2 D) and the Q/K/V map (3 D^2 + 3 D)."""
    return qkv_map_values(dim) + 5 * dim


def fit_flops(
    forward: float, train: int, validation: int, epochs: int, seeds: int
) -> tuple[float, float]:
    """(training, validation) FLOPs of one fit at ``forward`` FLOPs per sample, the per-pass
    maps aside (``radsweep bench gpu`` prices its timed steps with it)."""
    return (
        TRAIN_FACTOR * forward * train * epochs * seeds,
        forward * validation * epochs * seeds,
    )
