"""The head rates ``radsweep bench gpu`` measured, as the file the cost plan reads.

``RADSWEEP_HOME/bench/gpu-rates.json`` holds one ``GpuRates``: per backbone shape and precision,
the seconds of one vectorized training step, the seconds per validation row and the peak memory,
on one kind of device. No torch here: the plan imports this cheaply.
"""

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from radsweep.atomic import write_text_atomic

RATES_FILE = Path("bench") / "gpu-rates.json"
"""Where under ``RADSWEEP_HOME`` the rates live."""
SCHEMA: Literal[1] = 1
KINDS = ("h200", "h100", "a100", "a10g", "a10", "l40s", "l40", "l4", "t4", "v100")
"""Device kinds named as the plan names them, most specific first (``l40`` before ``l4``)."""


class ShapeRate(BaseModel):
    """One backbone's token shape at one precision: the attention head's measured costs.

    ``train_step_s``: one optimisation step of all ``seeds`` at ``batch`` rows each, timed
    (synchronized) after warm-up. ``validation_s_per_row``: scoring one row with every seed's
    model (a pass over rows x seeds, divided by rows). ``peak_memory_bytes``: the training step's
    peak allocation on the device (None on the CPU). ``tflops``: the step's counted FLOPs over
    its time.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    backbone: str
    tokens: Annotated[int, Field(gt=0)]
    width: Annotated[int, Field(gt=0)]
    seeds: Annotated[int, Field(gt=0)]
    batch: Annotated[int, Field(gt=0)]
    precision: Literal["fp32", "tf32", "bf16"]
    train_step_s: Annotated[float, Field(gt=0)]
    validation_s_per_row: Annotated[float, Field(gt=0)]
    peak_memory_bytes: Annotated[int | None, Field(ge=0)]
    tflops: Annotated[float, Field(ge=0)]


class GpuRates(BaseModel):
    """Every shape's rates on one device, and where and when they were measured."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal[1] = Field(default=SCHEMA, alias="schema")
    device_name: str
    device_kind: str
    measured_at: str  # ISO-8601, UTC
    radsweep_version: str
    shapes: tuple[ShapeRate, ...]

    def rate(self, backbone: str, precision: str) -> ShapeRate | None:
        """The measured row of ``backbone`` at ``precision``, if there is one."""
        return next(
            (r for r in self.shapes if r.backbone == backbone and r.precision == precision), None
        )


def rates_path(home: Path) -> Path:
    return home.expanduser() / RATES_FILE


def device_kind(device_name: str) -> str:
    """The plan's name for a device: ``NVIDIA H100 80GB HBM3`` is ``h100``; the CPU is ``cpu``;
    a GPU the plan does not know is its lower-cased name in dashes."""
    name = device_name.lower()
    if name == "cpu":
        return "cpu"
    for kind in KINDS:
        if re.search(rf"(?<![a-z0-9]){kind}(?![a-z0-9])", name):
            return kind
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


def save_rates(rates: GpuRates, path: Path) -> Path:
    """Write ``rates`` atomically (a reader never sees half a file)."""
    write_text_atomic(path, rates.model_dump_json(by_alias=True, indent=2) + "\n")
    return path


def load_rates(path: Path) -> GpuRates | None:
    """The rates at ``path``; None when there is no file, or one this version cannot read (an
    older schema, a damaged file): the plan then assumes, and says so."""
    try:
        return GpuRates.model_validate_json(path.read_text())
    except (OSError, ValidationError):
        return None
