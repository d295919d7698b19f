"""The rates ``radsweep bench gpu`` measured, as the plan reads them (``gpu-rates.json``).

The bench writes ``RADSWEEP_HOME/bench/gpu-rates.json`` (schema 1): per backbone shape and head
precision, the time of one training step of ``seeds`` vectorized seeds at ``batch`` rows, and of
validating one row (all measured seeds). The plan uses them for devices of the same kind.
"""

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from radsweep.errors import SweepError

RATES_FILE = "bench/gpu-rates.json"  # under RADSWEEP_HOME


class MeasuredShape(BaseModel):
    """One measured head shape: a backbone's tokens x width at one precision."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    backbone: str
    tokens: int = Field(gt=0)
    width: int = Field(gt=0)
    seeds: int = Field(gt=0)
    batch: int = Field(gt=0)
    precision: str
    train_step_s: float = Field(gt=0)
    validation_s_per_row: float = Field(gt=0)
    peak_memory_bytes: int = Field(ge=0)
    tflops: float = Field(ge=0)


class MeasuredRates(BaseModel):
    """Everything one ``bench gpu`` run measured on one device."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int = Field(alias="schema")
    device_name: str
    device_kind: str
    measured_at: str
    radsweep_version: str = ""
    shapes: tuple[MeasuredShape, ...]

    @property
    def label(self) -> str:
        return f"measured on {self.device_name} at {self.measured_at}"

    def shape(self, backbone: str, precision: str) -> MeasuredShape | None:
        return next(
            (s for s in self.shapes if s.backbone == backbone and s.precision == precision), None
        )


def load_measured(home: Path) -> MeasuredRates | None:
    """The saved rates under ``home``, or None when the bench has not saved any."""
    path = home.expanduser() / RATES_FILE
    if not path.is_file():
        return None
    try:
        rates = MeasuredRates.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as error:
        raise SweepError(
            f"{path}: not a saved `radsweep bench gpu` result",
            hint="delete it, or rerun `radsweep bench gpu`",
        ) from error
    if rates.schema_version != 1:
        raise SweepError(
            f"{path}: schema {rates.schema_version} is not one this radsweep reads (1)",
            hint="rerun `radsweep bench gpu` with this radsweep",
        )
    return rates
