"""Hours and memory of a plan on one device at the precision its runs use.

A training step takes the longer of its busy time and the host-bound floor of launching it; its
busy time is its FLOPs at the precision's sustained rate plus the bytes its memory-bound kernels
move (the T^2 attention weights with their softmax and dropout, the gathered tokens) at the
device's sustained bandwidth. Each run adds its fixed overhead, its row reads at the disk's
bandwidth and any head upload; each cache is read once at most for its finite check. Where
``radsweep bench gpu`` measured this kind of device, each backbone's modelled step and validation
times are scaled to what it measured.
A run whose step cannot fit the device's memory runs its seeds in chunks that do, as the engine
does (``training.chunks``: every seed's parameters stay, each step's activations come a chunk at
a time; the engine measures a step where the plan models it), each chunk paying the per-step
floor again; a run that cannot fit one seed cannot run there. Students of a τ/λ grid that
``sweep local`` trains in one pass (``RunCost.students``) share that pass's row reads and its
per-step and per-chunk floors (each run pays its share); their teacher is already counted once
(``RunCost.shared_teacher``).
"""

import statistics
from collections.abc import Iterable
from dataclasses import asdict, astuple, dataclass, field, replace

from radsweep.sweeps.plan.devices import (
    DEFAULT_PRECISION,
    DISK_BYTES_PER_S,
    PRECISIONS,
    RUN_OVERHEAD_S,
    UPLOAD_BYTES_PER_S,
    DeviceSpec,
    element_bytes,
)
from radsweep.sweeps.plan.measured import MeasuredRates, MeasuredShape
from radsweep.sweeps.plan.pricing import (
    EVAL_CHUNK,
    MAPS_TRAIN_FACTOR,
    Plan,
    Pool,
    RunCost,
    Stage,
    qkv_map_values,
)
from radsweep.training.chunks import seeds_per_chunk
from radsweep.training.registry import attention_pool_flops

# Bytes each T^2 attention weight moves per sample: a training step writes the scores, reads
# and writes the softmax (fp32 under autocast too), draws, compares and applies the dropout mask,
# averages the rows, and runs all of it backwards (about 80); validation writes the scores,
# runs the softmax and averages (16).
T2_TRAIN_BYTES = 80
T2_EVAL_BYTES = 16
# Bytes each gathered token value moves per sample: the fp16 row on the device read and written
# as float32 (6); under bf16 the tokens are kept and gathered in bf16 (2 + 2), which the three
# products that read them take as they are (no casts).
TOKEN_BYTES = {"fp32": 6, "tf32": 6, "bf16": 4}
# Bytes held per T^2 weight at the peak of a step (scores, softmax output, dropout draw, mask
# and output, and the backward's two gradients) and per weight of a validation chunk (scores,
# softmax, its mean).
T2_STEP_MEMORY = 32
T2_EVAL_MEMORY = 12
PARAMETER_BYTES = 20  # float32 parameter, gradient, Adam's two moments, the best epoch's copy
# Float32 temporaries ``StackedAdam.step`` holds at once for the tensor it updates (the two new
# moments, the denominator, the update and its two factors): it runs tensor by tensor over every
# seed at once, after a step's activations are freed, so its peak is that many copies of the
# largest tensor, a pool's Q/K/V map (3 D^2 per seed). Measured: a step over one 200 MB tensor
# raises the process's peak resident memory by 6.0 copies of it.
UPDATE_BYTES = 6 * 4


def run_precision(run: RunCost, override: str | None) -> str:
    """The precision a run trains in: ``--precision``, else its config's, else the GPU
    default (bf16)."""
    if override is not None:
        return override
    stated = getattr(run.config, "precision", None)
    return str(getattr(stated, "value", stated)) if stated is not None else DEFAULT_PRECISION


@dataclass(frozen=True)
class Seconds:
    """Where a projection's time goes (seconds)."""

    extraction: float = 0.0
    compute: float = 0.0  # head FLOPs at the achieved rate
    memory: float = 0.0  # T^2 and token traffic at the sustained bandwidth
    floor: float = 0.0  # time steps wait on the host beyond their busy time
    overhead: float = 0.0  # per-run fixed costs
    disk: float = 0.0
    upload: float = 0.0

    def __add__(self, other: "Seconds") -> "Seconds":
        return Seconds(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def scaled(self, factor: float) -> "Seconds":
        """Head time scaled to a measurement (the fixed costs are not scaled)."""
        return replace(
            self,
            compute=self.compute * factor,
            memory=self.memory * factor,
            floor=self.floor * factor,
        )

    @property
    def total(self) -> float:
        return sum(astuple(self))

    def hours(self) -> dict[str, float]:
        return {key: value / 3600 for key, value in asdict(self).items()} | {
            "total": self.total / 3600
        }


@dataclass(frozen=True)
class Memory:
    """The peak memory of one run's largest stage on a device, and what fits."""

    run: RunCost
    resident: float  # features kept on the device
    weights: float  # per seed: parameters, gradients, Adam state
    step: float  # per seed: a training step's activations
    validation: float  # per seed: a validation chunk's
    usable: float
    update: float  # per seed: the Adam update's temporaries, every seed at once

    @property
    def seeds(self) -> int:
        return len(self.run.config.seeds)

    @property
    def per_seed(self) -> float:
        return self.weights + max(self.step, self.validation, self.update)

    @property
    def peak(self) -> float:
        return self.resident + self.seeds * self.per_seed

    @property
    def fits(self) -> bool:
        return self.peak <= self.usable

    @property
    def seeds_that_fit(self) -> int:
        """Seeds per chunk that fit beside the resident features and every seed's weights,
        by the engine's arithmetic (0: not even one; ``usable`` holds the margin already)."""
        activations = max(self.step, self.validation)
        free = self.usable - self.resident
        return seeds_per_chunk(
            self.seeds, self.weights, activations, free, safety=1.0, update=self.update
        )

    @property
    def chunks(self) -> int:
        fit = self.seeds_that_fit
        return -(-self.seeds // fit) if fit else 0


@dataclass(frozen=True)
class Calibration:
    """A measured shape against the plan's model of it on the same device and precision."""

    shape: MeasuredShape
    modelled_step_s: float
    modelled_validation_s_per_row: float

    @property
    def train(self) -> float:
        return self.shape.train_step_s / self.modelled_step_s

    @property
    def validation(self) -> float:
        return self.shape.validation_s_per_row / self.modelled_validation_s_per_row


@dataclass(frozen=True)
class Projection:
    """One plan on one device: its time, what cannot run there, and where rates came from."""

    device: DeviceSpec
    precision: str | None  # the ``--precision`` override; None: each run's own
    seconds: Seconds
    fp32_seconds: Seconds  # the same plan with every head in fp32, for comparison
    memory: dict[str, Memory]  # per backbone (or text encoder): its most demanding run
    runnable: int  # runs that fit the device (whole, or in seed chunks): the hours price them
    chunked: int  # runs whose seeds run in chunks to fit
    cannot_run: tuple[RunCost, ...]
    measured: MeasuredRates | None
    calibrations: tuple[Calibration, ...] = field(default=())

    @property
    def source(self) -> str:
        if self.measured is not None and self.calibrations:
            return self.measured.label
        return "assumed"


def project(
    planned: Plan,
    device: DeviceSpec,
    precision: str | None = None,
    measured: MeasuredRates | None = None,
) -> Projection:
    """``planned`` on ``device``: each run at its precision (or ``precision``), scaled to the
    measured rates when they come from a device of the same kind."""
    if measured is not None and measured.device_kind != device.kind:
        measured = None
    memory = {run.config.canonical(): run_memory(run, device, precision) for run in planned.runs}
    runnable = [run for run in planned.runs if memory[run.config.canonical()].chunks]
    used = {device.precision_used(run_precision(run, precision)) for run in runnable}
    calibrations = tuple(c for c in _calibrations(device, measured) if c.shape.precision in used)
    seconds = Seconds(
        extraction=planned.extract_flops / device.extract_flops_per_s,
        disk=planned.finite_check_bytes / DISK_BYTES_PER_S,
    )
    fp32 = seconds
    for run in runnable:
        fits = memory[run.config.canonical()]
        wanted = run_precision(run, precision)
        factors = _factors(run, device.precision_used(wanted), calibrations)
        floors = student_floors(run, fits)
        seconds += run_seconds(run, device, wanted, fits.chunks, factors, floors)
        fp32 += run_seconds(run, device, "fp32", fits.chunks, student_floors=floors)
    chunked = sum(memory[run.config.canonical()].chunks > 1 for run in runnable)
    cannot = tuple(run for run in planned.runs if not memory[run.config.canonical()].chunks)
    worst = _worst_per_backbone(memory.values())
    return Projection(
        device,
        precision,
        seconds,
        fp32,
        worst,
        len(runnable),
        chunked,
        cannot,
        measured,
        calibrations,
    )


def student_floors(run: RunCost, fits: Memory) -> float | None:
    """This run's share of its student group's per-step floors, in chunks of one run: the
    group's members (students x seeds) in as many chunks as fit, split over its students;
    None for a run trained alone."""
    room = fits.usable - fits.resident
    fit = int(room // fits.per_seed) if room > 0 else 0  # members beside the features
    if run.students == 1 or not fit:
        return None
    return -(-(run.students * fits.seeds) // fit) / run.students


def run_seconds(
    run: RunCost,
    device: DeviceSpec,
    precision: str,
    chunks: int = 1,
    factors: tuple[float, float] = (1.0, 1.0),
    student_floors: float | None = None,
) -> Seconds:
    """One run's time on ``device``: its stages (training and validation scaled by
    ``factors``), overhead, row reads and uploads. A run whose student trains in one pass with
    others of its grid (``run.students``) pays its share of that pass's reads and of its
    student stage's floors (``student_floors``, in chunks)."""
    used = device.precision_used(precision)
    total = Seconds(
        overhead=RUN_OVERHEAD_S,
        disk=run.rows_read / DISK_BYTES_PER_S / run.students,
        upload=run.upload / UPLOAD_BYTES_PER_S,
    )
    ceiling = device.achieved[used]  # compute at 100 % of the peak: no measurement beats it
    for stage in run.stages:
        floors = student_floors if stage.name == "student" and student_floors else chunks
        for part, factor in zip(stage_seconds(stage, device, used, floors), factors, strict=True):
            scaled = part.scaled(factor)
            total += replace(scaled, compute=max(scaled.compute, part.compute * ceiling))
    return total


def stage_seconds(
    stage: Stage, device: DeviceSpec, precision: str, chunks: float = 1
) -> tuple[Seconds, Seconds]:
    """(training, validation) time of one stage; a stage whose seeds run in ``chunks`` pays
    each step's floor once per chunk (a fraction: its share of a pass with other runs')."""
    rate, bandwidth = device.train_flops_per_s(precision), device.bandwidth
    seeds = stage.seeds
    step_flops = seeds * (stage.train_forward * stage.batch + MAPS_TRAIN_FACTOR * stage.maps)
    step_bytes = seeds * stage.batch * _train_bytes(stage, precision)
    train = _pass(
        step_flops / rate,
        step_bytes / bandwidth,
        device.step_floor_s * chunks,
        stage.steps * stage.epochs,
    )
    validation = Seconds()
    for rows, count, repeats in (
        (stage.eval_rows, stage.eval_chunks, stage.epochs),
        (stage.target_rows, stage.target_chunks, 1),
    ):
        flops = seeds * (stage.forward * rows + stage.maps * count)
        moved = seeds * rows * _eval_bytes(stage, precision)
        floor = device.eval_floor_s * count * chunks
        validation += _pass(flops / rate, moved / bandwidth, floor, repeats)
    return train, validation


def _pass(compute: float, memory: float, floor: float, repeats: int) -> Seconds:
    """``repeats`` passes, each busy for compute + memory seconds or waiting out its floor."""
    waiting = max(0.0, floor - compute - memory)
    return Seconds(compute=compute * repeats, memory=memory * repeats, floor=waiting * repeats)


def _train_bytes(stage: Stage, precision: str) -> float:
    return stage.squares * T2_TRAIN_BYTES + stage.token_values * TOKEN_BYTES[precision]


def _eval_bytes(stage: Stage, precision: str) -> float:
    return stage.squares * T2_EVAL_BYTES + stage.token_values * TOKEN_BYTES[precision]


def run_memory(run: RunCost, device: DeviceSpec, precision: str | None) -> Memory:
    """Peak memory of the run's most demanding stage, per seed, beside its resident features."""
    used = device.precision_used(run_precision(run, precision))
    element = element_bytes(used)  # also the gathered tokens': bf16 heads gather bf16, no casts
    stages = run.stages or ()
    step = validation = 0.0
    for stage in stages:
        projected = sum(pool.tokens * pool.dim for pool in stage.pools) * element
        step = max(
            step,
            stage.batch
            * (stage.token_values * element + projected + stage.squares * T2_STEP_MEMORY),
        )
        rows = min(EVAL_CHUNK, max(stage.eval_rows, 1))
        validation = max(
            validation,
            rows
            * (
                stage.token_values * element
                + projected
                + stage.squares * (T2_EVAL_MEMORY + element)
            ),
        )
    weights = run.parameters * PARAMETER_BYTES
    largest = max((qkv_map_values(p.dim) for stage in stages for p in stage.pools), default=0)
    update = largest * UPDATE_BYTES
    return Memory(run, run.resident, weights, step, validation, device.usable_memory, update)


def _worst_per_backbone(memories: Iterable[Memory]) -> dict[str, Memory]:
    """Per backbone (or a text model's encoder), the run that needs the most memory."""
    worst: dict[str, Memory] = {}
    for memory in memories:
        config = memory.run.config
        name = config.backbone or f"text {config.text_encoder}"  # as report._model_of
        if name not in worst or memory.peak > worst[name].peak:
            worst[name] = memory
    return dict(sorted(worst.items()))


def _calibrations(device: DeviceSpec, measured: MeasuredRates | None) -> tuple[Calibration, ...]:
    """Each measured shape against the model of the same step on the same device."""
    if measured is None:
        return ()
    found = []
    for shape in measured.shapes:
        if shape.precision not in PRECISIONS:
            continue
        stage = Stage(
            name="bench",
            forward=attention_pool_flops(shape.tokens, shape.width),
            pools=(Pool(shape.tokens, shape.width),),
            token_values=shape.tokens * shape.width,
            seeds=shape.seeds,
            batch=shape.batch,
            steps=1,
            epochs=1,
            eval_rows=EVAL_CHUNK,
        )
        train, validation = stage_seconds(stage, device, device.precision_used(shape.precision))
        found.append(Calibration(shape, train.total, validation.total / EVAL_CHUNK))
    return tuple(found)


def _factors(
    run: RunCost, precision: str, calibrations: tuple[Calibration, ...]
) -> tuple[float, float]:
    """(training, validation) scale of a run: its backbone's measurement at its precision, else
    the median over the measured backbones at that precision, else none (1, 1)."""
    same = [c for c in calibrations if c.shape.precision == precision]
    mine = [c for c in same if c.shape.backbone == run.config.backbone] or same
    if not mine:
        return 1.0, 1.0
    return statistics.median(c.train for c in mine), statistics.median(c.validation for c in mine)
