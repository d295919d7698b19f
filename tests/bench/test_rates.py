"""The head rates bench gpu writes for the cost plan: schema, device kinds, atomic round trip."""

import json
from pathlib import Path

import pytest
import torch

from radsweep.bench.gpu import gpu_rates
from radsweep.bench.heads import TINY_SHAPE, WORKLOADS, HeadShape, head_shapes, measure
from radsweep.errors import SweepError
from radsweep.sweeps.plan.measured import (
    MeasuredRates,
    MeasuredShape,
    device_kind,
    load_measured,
    rates_path,
    save_measured,
)
from radsweep.training.config import Precision
from tests.sweeps.rates import rates_document

DOCUMENT = rates_document()
ROW = DOCUMENT["shapes"][0]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("NVIDIA H100 80GB HBM3", "h100"),
        ("NVIDIA A100-SXM4-40GB", "a100"),
        ("Tesla T4", "t4"),
        ("NVIDIA L4", "l4"),
        ("NVIDIA L40S", "l40s"),
        ("cpu", "cpu"),
        ("NVIDIA GeForce RTX 4090", "nvidia-geforce-rtx-4090"),
    ],
)
def test_device_names_map_to_the_plans_kinds(name: str, kind: str) -> None:
    assert device_kind(name) == kind


def test_the_documented_schema_round_trips_atomically(tmp_path: Path) -> None:
    rates = MeasuredRates.model_validate(DOCUMENT)
    path = save_measured(rates, rates_path(tmp_path))
    assert path == tmp_path / "bench" / "gpu-rates.json"
    assert json.loads(path.read_text()) == DOCUMENT
    assert load_measured(tmp_path) == rates
    assert rates.shape("rad-dino", "bf16") == MeasuredShape(**ROW)
    assert rates.shape("rad-dino", "fp32") is None
    assert [p.name for p in path.parent.iterdir()] == ["gpu-rates.json"]  # no temp file left


def test_a_missing_file_is_no_rates_and_a_damaged_or_newer_one_a_clear_error(
    tmp_path: Path,
) -> None:
    assert load_measured(tmp_path) is None
    path = rates_path(tmp_path)
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.raises(SweepError, match="not a saved"):
        load_measured(tmp_path)
    path.write_text(json.dumps({**DOCUMENT, "schema": 2}))
    with pytest.raises(SweepError, match="schema 2"):
        load_measured(tmp_path)


def test_every_backbone_shape_is_measured_once() -> None:
    shapes = head_shapes()
    rad_dino = next(shape for shape in shapes if "rad-dino" in shape.backbones)
    assert (rad_dino.tokens, rad_dino.width) == (1369, 768)
    assert len({(s.tokens, s.width) for s in shapes}) == len(shapes)


def test_a_measured_shape_becomes_one_row_per_backbone() -> None:
    torch.set_flush_denormal(True)
    shape = HeadShape(("one", "two"), TINY_SHAPE.tokens, TINY_SHAPE.width)
    cpu = torch.device("cpu")
    rate = measure(shape, Precision.BF16, (0, 1), WORKLOADS["tiny"], cpu)
    assert rate.train_step_s > 0 and rate.validation_s_per_row > 0 and rate.step_flops > 0
    assert rate.peak_memory_bytes is None and "peak n/a" in rate.line()
    rates = gpu_rates(cpu, [rate])
    assert rates.device_kind == "cpu" and [r.backbone for r in rates.shapes] == ["one", "two"]
    assert {(r.precision, r.seeds, r.batch) for r in rates.shapes} == {("bf16", 2, 16)}
