"""A ``bench gpu`` rates document as the cost plan reads it, shared by the bench and plan tests."""

from typing import Any


def rates_document(train_step_s: float = 0.0123, device_kind: str = "h100") -> dict[str, Any]:
    """One measured rad-dino shape at bf16 on an H100, as ``bench gpu`` saves it."""
    row = {
        "backbone": "rad-dino",
        "tokens": 1369,
        "width": 768,
        "seeds": 5,
        "batch": 64,
        "precision": "bf16",
        "train_step_s": train_step_s,
        "validation_s_per_row": 1.2e-05,
        "peak_memory_bytes": 123456789,
        "tflops": 41.0,
    }
    return {
        "schema": 1,
        "device_name": "NVIDIA H100 80GB HBM3",
        "device_kind": device_kind,
        "measured_at": "2026-12-07T06:00:00+00:00",
        "radsweep_version": "0.1.0",
        "shapes": [row],
    }
