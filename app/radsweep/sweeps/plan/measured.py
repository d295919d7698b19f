"""The head rates ``radsweep bench gpu`` measured: the one file the bench writes and the plan reads.

``RADSWEEP_HOME/bench/gpu-rates.json`` (schema 1) holds, per backbone shape and head precision,
the time of one training step of ``seeds`` vectorized seeds at ``batch`` rows, of validating one
row (scored by every seed's model), the step's peak memory and its counted TFLOP/s, on one kind
of device. The plan uses them for devices of the same kind. No torch here: the plan imports this
cheaply, and the bench (a layer above) writes through it, so there is one schema.
"""

import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from radsweep.atomic import write_text_atomic
from radsweep.errors import SweepError

RATES_FILE = Path("bench") / "gpu-rates.json"
"""Where under ``RADSWEEP_HOME`` the rates live."""
SCHEMA = 1
KINDS = ("h200", "h100", "a100", "a10g", "a10", "l40s", "l40", "l4", "t4", "v100")
"""Device kinds named as the plan names them, most specific first (``l40`` before ``l4``)."""


class MeasuredShape(BaseModel):
    """One backbone's token shape at one precision: the attention head's measured costs.

    ``train_step_s``: one optimisation step of all ``seeds`` at ``batch`` rows each, timed
    (synchronized) after warm-up. ``validation_s_per_row``: scoring one row with every seed's
    model. ``peak_memory_bytes``: the training step's peak above the resident features (None on
    the CPU). ``tflops``: the step's counted FLOPs over its time.
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


class MeasuredRates(BaseModel):
    """Every shape's rates on one device, and where and when they were measured."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_version: int = Field(default=SCHEMA, alias="schema")
    device_name: str
    device_kind: str
    measured_at: str  # ISO-8601, UTC
    radsweep_version: str
    shapes: tuple[MeasuredShape, ...]

    @property
    def label(self) -> str:
        return f"measured on {self.device_name} at {self.measured_at}"

    def shape(self, backbone: str, precision: str) -> MeasuredShape | None:
        """The measured row of ``backbone`` at ``precision``, if there is one."""
        return next(
            (s for s in self.shapes if s.backbone == backbone and s.precision == precision), None
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


def save_measured(rates: MeasuredRates, path: Path) -> Path:
    """Write ``rates`` atomically (a reader never sees half a file)."""
    write_text_atomic(path, rates.model_dump_json(by_alias=True, indent=2) + "\n")
    return path


def load_measured(home: Path) -> MeasuredRates | None:
    """The saved rates under ``home``, or None when the bench has not saved any; a damaged file
    or another schema is one line saying how to replace it (the plan never guesses from it)."""
    path = rates_path(home)
    if not path.is_file():
        return None
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(values, dict) and values.get("schema") != SCHEMA:
            raise SweepError(
                f"{path}: schema {values.get('schema')} is not one this radsweep reads ({SCHEMA})",
                hint="rerun `radsweep bench gpu` with this radsweep",
            )
        return MeasuredRates.model_validate(values)
    except (ValueError, ValidationError) as error:
        raise SweepError(
            f"{path}: not a saved `radsweep bench gpu` result",
            hint="delete it, or rerun `radsweep bench gpu`",
        ) from error
