"""What a set of sweep specs will cost before anything runs: runs, caches, disk, FLOPs, hours,
memory, and every assumption behind them.

One concern per module: ``counting`` (distinct runs and caches, task sizes), ``pricing`` (the
work in device-independent units: bytes, FLOPs, steps), ``devices`` (what the plan assumes
about each device), ``measured`` (the rates ``radsweep bench gpu`` saved), ``projection``
(hours and memory on one device) and ``report`` (what ``sweep plan`` prints). The names the CLI,
the doctor and the bench use are importable from here.
"""

from radsweep.sweeps.plan.devices import DEVICES, DeviceSpec
from radsweep.sweeps.plan.pricing import (
    MEASURED_FILE,
    PAPER_T4_HOURS,
    TRAIN_FACTOR,
    Device,
    Plan,
    backbone_gflops,
    fit_flops,
    load_plan,
    plan,
)
from radsweep.sweeps.plan.projection import Projection, project
from radsweep.sweeps.plan.report import DiskCheck, PlanReport, choose_devices, plan_report

__all__ = [
    "DEVICES",
    "MEASURED_FILE",
    "PAPER_T4_HOURS",
    "TRAIN_FACTOR",
    "Device",
    "DeviceSpec",
    "DiskCheck",
    "Plan",
    "PlanReport",
    "Projection",
    "backbone_gflops",
    "choose_devices",
    "fit_flops",
    "load_plan",
    "plan",
    "plan_report",
    "project",
]
