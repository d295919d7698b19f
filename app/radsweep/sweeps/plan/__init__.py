"""What a set of sweep specs will cost before anything runs: runs, caches, disk, FLOPs, hours.

One concern per module: ``counting`` (distinct runs and caches, task sizes), ``pricing`` (bytes,
FLOPs, devices and hours) and ``report`` (what ``sweep plan`` prints). The names the CLI, the
doctor and the bench use are importable from here.
"""

from radsweep.sweeps.plan.pricing import (
    DEVICES,
    MEASURED_FILE,
    PAPER_T4_HOURS,
    TRAIN_FACTOR,
    Device,
    Plan,
    backbone_gflops,
    choose_devices,
    fit_flops,
    load_plan,
    plan,
)
from radsweep.sweeps.plan.report import DiskCheck, PlanReport, plan_report

__all__ = [
    "DEVICES",
    "MEASURED_FILE",
    "PAPER_T4_HOURS",
    "TRAIN_FACTOR",
    "Device",
    "DiskCheck",
    "Plan",
    "PlanReport",
    "backbone_gflops",
    "choose_devices",
    "fit_flops",
    "load_plan",
    "plan",
    "plan_report",
]
