"""``sweep plan``'s answer: a plan projected onto devices, its disk check and every assumption
behind the hours, as lines for a terminal or as one JSON record."""

import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from radsweep.errors import SweepError
from radsweep.settings import Settings
from radsweep.sweeps.plan import devices as assumed
from radsweep.sweeps.plan import projection as model
from radsweep.sweeps.plan.devices import DEVICES, PRECISIONS, DeviceSpec
from radsweep.sweeps.plan.measured import RATES_FILE, MeasuredRates, load_measured
from radsweep.sweeps.plan.pricing import PAPER_T4_HOURS, CacheCost, Plan, RunCost, load_plan
from radsweep.sweeps.plan.projection import Memory, Projection, project

MEASURED = "measured"


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


def constants() -> dict[str, dict[str, object]]:
    """The device-independent assumptions, each with its unit and where it comes from (each
    device's ceilings, shares and floors are in its own record)."""

    def row(value: float, unit: str, source: str) -> dict[str, object]:
        return {"value": value, "unit": unit, "source": source}

    return {
        "extract_share": row(assumed.EXTRACT_SHARE, "of mixed-precision peak", "assumed"),
        "bandwidth_share": row(assumed.BANDWIDTH_SHARE, "of data-sheet bandwidth", "assumed"),
        "usable_memory": row(assumed.USABLE_MEMORY, "of device memory", "assumed"),
        "run_overhead": row(
            assumed.RUN_OVERHEAD_S, "s per run", "assumed: process, CUDA, wandb.init, caches"
        ),
        "disk": row(assumed.DISK_BYTES_PER_S, "bytes/s", "assumed: one NVMe SSD"),
        "upload": row(assumed.UPLOAD_BYTES_PER_S, "bytes/s", "assumed: W&B artifact upload"),
        "t2_train_bytes": row(model.T2_TRAIN_BYTES, "bytes per T^2 weight per sample", "counted"),
        "t2_eval_bytes": row(model.T2_EVAL_BYTES, "bytes per T^2 weight per row", "counted"),
        "token_bytes_fp32": row(model.TOKEN_BYTES["fp32"], "bytes per token value", "counted"),
        "token_bytes_bf16": row(model.TOKEN_BYTES["bf16"], "bytes per token value", "counted"),
        "t2_step_memory": row(model.T2_STEP_MEMORY, "bytes per T^2 weight held", "counted"),
        "parameter_memory": row(model.PARAMETER_BYTES, "bytes per parameter", "counted"),
        "update_memory": row(
            model.UPDATE_BYTES, "bytes per value of the Adam update's largest tensor", "counted"
        ),
    }


@dataclass(frozen=True)
class PlanReport:
    """A plan with the devices it is projected onto and its disk check: what ``sweep plan``
    prints as lines or as one JSON record."""

    plan: Plan
    projections: list[Projection]
    disk: DiskCheck
    detailed: bool  # one device asked for: its memory per backbone too

    def caches(self) -> list[CacheCost]:
        return sorted(self.plan.caches, key=lambda cache: (cache.kind, cache.task, cache.encoder))

    def record(self) -> dict[str, object]:
        planned, disk = self.plan, self.disk
        return {
            "specs": list(planned.specs),
            "runs": {
                "distinct": len(planned.runs),
                "listed": planned.listed,
                "shared_teachers": planned.shared_teachers,
                "grouped_students": planned.grouped_students,
            },
            "caches": [asdict(cache) for cache in self.caches()],
            "disk": {
                "cache_bytes": disk.needed,
                "free_bytes": disk.free,
                "folder": disk.folder,
                "fits": disk.fits,
                "rows_read_bytes": planned.rows_read,
                "caches_read_bytes": planned.finite_check_bytes,
                "upload_bytes": planned.upload_bytes,
                "kept_heads_bytes": planned.kept_heads_bytes,
                "upload_runs": sum(run.upload > 0 for run in planned.runs),
            },
            "flops": {
                "extraction": planned.extract_flops,
                "training": planned.train_flops,
                "validation": planned.eval_flops,
            },
            "assumptions": constants(),
            "devices": [_device_record(projected) for projected in self.projections],
            "paper_t4_hours": PAPER_T4_HOURS,
        }

    def lines(self) -> list[str]:
        planned, disk = self.plan, self.disk
        lines = [
            f"specs: {', '.join(planned.specs)}",
            f"runs: {len(planned.runs)} distinct ({planned.listed} listed; "
            f"{planned.listed - len(planned.runs)} shared between specs); "
            f"{planned.shared_teachers} reuse a teacher another run trains; "
            f"{_grouping(planned)}",
            f"feature caches: {len(planned.caches)}",
        ]
        for item in self.caches():
            lines.append(
                f"  {item.kind:<5} {item.task:<16} {item.encoder:<17} {item.samples:>7} x "
                f"{item.views} view(s)  {_size(item.bytes):>9}"
            )
        verdict = "fits" if disk.fits else "DOES NOT FIT"
        rows, whole = planned.rows_read, planned.finite_check_bytes
        lines += [
            f"disk: {_size(disk.needed)} of caches; {_size(disk.free)} free at {disk.folder} "
            f"({verdict})",
            f"reads: {_size(rows)} of rows loaded by the runs + {_size(whole)} of whole caches "
            f"checked finite (at most once per cache: the check is recorded beside it) at "
            f"{_size(assumed.DISK_BYTES_PER_S)}/s",
            f"heads: {_size(planned.kept_heads_bytes)} kept beside the results store (every "
            "trained run's heads, for radsweep predict)",
            _upload_line(planned),
            f"FLOPs: extraction {planned.extract_flops:.3g}, training {planned.train_flops:.3g}, "
            f"validation {planned.eval_flops:.3g} (D^3 maps per step and chunk included)",
        ]
        for projected in self.projections:
            lines += _device_lines(projected, self.detailed)
        lines += _assumption_lines()
        lines.append(f"the paper: about {PAPER_T4_HOURS:,} T4-hours for the whole study")
        return lines


def _upload_line(planned: Plan) -> str:
    runs = sum(run.upload > 0 for run in planned.runs)
    if not runs:
        return "uploads: no heads (no spec sets upload_heads: true)"
    return (
        f"uploads: {_size(planned.upload_bytes)} of heads from {runs} runs (upload_heads) at "
        f"{_size(assumed.UPLOAD_BYTES_PER_S)}/s"
    )


def _precision_label(projected: Projection) -> str:
    wanted = projected.precision or f"each run's own (default {assumed.DEFAULT_PRECISION})"
    used = projected.device.precision_used(projected.precision or assumed.DEFAULT_PRECISION)
    fallback = projected.precision or assumed.DEFAULT_PRECISION
    if used != fallback:
        return f"{wanted}; {fallback} runs as {used} on a {projected.device.name}"
    return wanted


def _device_lines(projected: Projection, detailed: bool) -> list[str]:
    device, hours = projected.device, projected.seconds.hours()
    runs = len(projected.cannot_run) + projected.runnable
    scope = (
        f" for the {projected.runnable:,} of {runs:,} runs that fit" if projected.cannot_run else ""
    )
    lines = [
        f"{device.name}: {hours['total']:,.1f} h{scope} at {_precision_label(projected)} "
        f"(fp32: {projected.fp32_seconds.total / 3600:,.1f} h) [{projected.source}]",
        "  = " + ", ".join(f"{name} {hours[name]:,.2f}" for name in _PARTS),
    ]
    for calibration in projected.calibrations:
        lines.append(
            f"  {calibration.shape.backbone} {calibration.shape.precision}: step measured "
            f"{calibration.shape.train_step_s * 1e3:.2f} ms, modelled "
            f"{calibration.modelled_step_s * 1e3:.2f} ms (x{calibration.train:.2f})"
        )
    if projected.chunked or projected.cannot_run:
        blocked = Counter(_model_of(run) for run in projected.cannot_run)
        which = ", ".join(f"{name} {count}" for name, count in sorted(blocked.items()))
        cannot = f"; {len(projected.cannot_run)} cannot run, not even one seed fits ({which})"
        lines.append(
            f"  memory: {projected.chunked} runs fit only with their seeds in chunks (priced so; "
            "the engine splits each step's seeds to fit, measured on the GPU, or --seed-chunk)"
            + (cannot if which else "")
        )
    if detailed:
        lines.append(f"  peak memory per backbone (usable {_gib(device.usable_memory)}):")
        lines += [
            f"    {name:<17} {_memory_line(memory)}" for name, memory in projected.memory.items()
        ]
    return lines


_PARTS = ("extraction", "compute", "memory", "floor", "overhead", "disk", "upload")


def _memory_line(memory: Memory) -> str:
    config = memory.run.config
    verdict = (
        "fits"
        if memory.fits
        else f"DOES NOT FIT: {memory.seeds_that_fit} seeds per chunk fit"
        if memory.seeds_that_fit
        else "CANNOT RUN: not even one seed fits"
    )
    return (
        f"{_gib(memory.peak)} at {memory.seeds} seeds, batch {config.batch_size} "
        f"({config.task} {config.method.value} {config.fraction:g}: features "
        f"{_gib(memory.resident)} + per seed step {_gib(memory.step)} / validation chunk "
        f"{_gib(memory.validation)} / Adam update {_gib(memory.update)}): {verdict}"
    )


def _grouping(planned: Plan) -> str:
    """How the plan trains a τ/λ grid's students (the executor's way)."""
    if not planned.grouped_students:
        return "no students trained together"
    passes = sum(1 / run.students for run in planned.runs if run.students > 1)
    return (
        f"{planned.grouped_students} students trained together in {round(passes)} passes, as "
        "`sweep local` groups them: features read and step floors paid once per pass "
        "(W&B agents run one configuration at a time: plan with --agents)"
    )


def _assumption_lines() -> list[str]:
    lines = ["assumptions (dense peaks, TFLOP/s; achieved share; bandwidth; memory):"]
    for device in DEVICES.values():
        peaks = " / ".join(f"{p} {device.peak_tflops[p]:g}" for p in device.peak_tflops)
        falls = "".join(f", {p} runs as {q}" for p, q in device.fallback.items())
        lines.append(
            f"  {device.name:<9} {peaks}{falls}; {device.bandwidth_bytes_per_s / 1e12:g} TB/s; "
            f"{device.memory_bytes / 1e9:g} GB ({device.source})"
        )
    shares = ", ".join(f"{p} {assumed.ACHIEVED[p]:.0%}" for p in PRECISIONS)
    lines += [
        f"  achieved: {shares} of the peak ({assumed.ACHIEVED_SOURCE}); extraction "
        f"{assumed.EXTRACT_SHARE:.0%}; bandwidth {assumed.BANDWIDTH_SHARE:.0%}",
        f"  floors: {assumed.STEP_FLOOR_S * 1e3:g} ms per step, "
        f"{assumed.EVAL_FLOOR_S * 1e3:g} ms per validation chunk; {assumed.RUN_OVERHEAD_S:g} s "
        f"per run; traffic: {model.T2_TRAIN_BYTES} B per T^2 weight in training, "
        f"{model.T2_EVAL_BYTES} in validation, token values "
        f"{model.TOKEN_BYTES['fp32']} B (bf16 {model.TOKEN_BYTES['bf16']} B)",
    ]
    return lines


def _device_record(projected: Projection) -> dict[str, object]:
    device = projected.device
    return {
        "kind": device.kind,
        "name": device.name,
        "precision": projected.precision,
        "rates": projected.source,
        "ceilings": {
            "peak_tflops": device.peak_tflops,
            "fallback": device.fallback,
            "extract_tflops_peak": device.extract_tflops_peak,
            "memory_bytes": device.memory_bytes,
            "bandwidth_bytes_per_s": device.bandwidth_bytes_per_s,
            "source": device.source,
        },
        "achieved": {"shares": device.achieved, "source": assumed.ACHIEVED_SOURCE},
        "floors": {"step_s": device.step_floor_s, "validation_chunk_s": device.eval_floor_s},
        "hours": projected.seconds.hours(),
        "fp32_hours": projected.fp32_seconds.hours(),
        "runnable_runs": projected.runnable,
        "chunked_runs": projected.chunked,
        "cannot_run": [_run_name(run) for run in projected.cannot_run],
        "memory": [_memory_record(name, m) for name, m in projected.memory.items()],
        "calibrations": [
            {
                "backbone": c.shape.backbone,
                "precision": c.shape.precision,
                "measured_step_s": c.shape.train_step_s,
                "modelled_step_s": c.modelled_step_s,
                "measured_validation_s_per_row": c.shape.validation_s_per_row,
                "modelled_validation_s_per_row": c.modelled_validation_s_per_row,
            }
            for c in projected.calibrations
        ],
    }


def _memory_record(name: str, memory: Memory) -> dict[str, object]:
    return {
        "backbone": name,
        "run": _run_name(memory.run),
        "seeds": memory.seeds,
        "batch": memory.run.config.batch_size,
        "peak_bytes": memory.peak,
        "resident_bytes": memory.resident,
        "step_bytes_per_seed": memory.step,
        "validation_bytes_per_seed": memory.validation,
        "weights_bytes_per_seed": memory.weights,
        "update_bytes_per_seed": memory.update,
        "usable_bytes": memory.usable,
        "fits": memory.fits,
        "seeds_per_chunk": memory.seeds_that_fit,
    }


def _model_of(run: RunCost) -> str:
    return run.config.backbone or f"text {run.config.text_encoder}"


def _run_name(run: RunCost) -> str:
    config = run.config
    parts = (config.task, config.backbone or config.text_encoder, config.method.value)
    return f"{' '.join(map(str, parts))} {config.fraction:g} ({len(config.seeds)} seeds)"


def choose_devices(name: str | None, home: Path) -> list[tuple[DeviceSpec, MeasuredRates | None]]:
    """The devices to project onto, each with the rates the bench measured on its kind: one by
    name (``measured``: the kind the bench ran on), else every device of the table."""
    measured = load_measured(home)
    if name is None:
        return [(device, measured) for device in DEVICES.values()]
    if name.lower() == MEASURED:
        if measured is None:
            raise SweepError(
                f"no measured rates: {home.expanduser() / RATES_FILE} does not exist",
                hint="run `radsweep bench gpu` on the GPU first, or name a device: "
                + ", ".join(DEVICES),
            )
        name = measured.device_kind
    device = DEVICES.get(name.lower())
    if device is None:
        raise SweepError(
            f"no data sheet for device {name!r}",
            hint=f"choose one of {', '.join([*DEVICES, MEASURED])}",
        )
    return [(device, measured)]


def plan_report(
    specs: Sequence[str | Path],
    every: bool,
    settings: Settings,
    device: str | None = None,
    precision: str | None = None,
    grouped: bool = True,
) -> PlanReport:
    """``sweep plan``: the specs' (or the whole study's) plan on each device, and disk check;
    ``grouped``: a τ/λ grid's students in one pass, as ``sweep local`` runs them (not as W&B
    agents do, one configuration at a time)."""
    if precision is not None and precision not in PRECISIONS:
        raise SweepError(
            f"unknown precision {precision!r}", hint=f"choose one of {', '.join(PRECISIONS)}"
        )
    planned = load_plan(specs, every, settings.data, grouped)
    chosen = choose_devices(device, settings.home)
    projections = [project(planned, spec, precision, rates) for spec, rates in chosen]
    disk = DiskCheck.of(settings.cache, planned.cache_bytes)
    return PlanReport(planned, projections, disk, detailed=device is not None)


def _gib(count: float) -> str:
    return f"{count / 2**30:.1f} GiB"


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
