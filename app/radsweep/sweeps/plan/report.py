"""``sweep plan``'s answer: a plan with the devices it is projected onto and its disk check,
as lines for a terminal or as one JSON record."""

import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from radsweep.settings import Settings
from radsweep.sweeps.plan.pricing import (
    PAPER_T4_HOURS,
    CacheCost,
    Device,
    Plan,
    choose_devices,
    load_plan,
)


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
