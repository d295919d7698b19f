"""How a head's arithmetic runs under each ``Precision``: autocast for the forward passes, TF32
for the float32 matrix products that remain.

Parameters, gradients and Adam's state stay float32 (autocast casts copies of the weights, and
their gradients come back float32); the engine reads logits as float32 before any loss, softmax or
metric. bf16 has float32's range, so no loss scaling is needed.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import torch

from radsweep.errors import TrainingError
from radsweep.training.config import Precision

_TF32 = "high"  # torch.set_float32_matmul_precision: float32 products may use TF32


def for_device(precision: Precision | None, device: torch.device) -> Precision:
    """``Precision.on`` for a real device: the default is fp32 on a GPU without bfloat16
    (before Ampere, e.g. a T4), where asking for bf16 is an error."""
    native = device.type != "cuda" or torch.cuda.is_bf16_supported(including_emulation=False)
    chosen = Precision.on(precision, device.type, bf16=native)
    if chosen is Precision.BF16 and not native:
        raise TrainingError(
            f"precision bf16 asked for, but {torch.cuda.get_device_name(device)} has no bfloat16",
            hint="use --precision fp32 (or leave it unset: fp32 is this GPU's default)",
        )
    return chosen


def autocast(precision: Precision, device: torch.device) -> AbstractContextManager[None]:
    """bfloat16 autocast for ``bf16``, nothing otherwise; wraps forward passes only (backward
    runs in the dtypes the forward chose)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == Precision.BF16)


@contextmanager
def float32_matmuls(precision: Precision, device: torch.device) -> Iterator[None]:
    """Let CUDA float32 matrix products use TF32 for ``tf32`` and ``bf16`` while inside
    (PyTorch's default is full float32); the previous setting is restored on the way out."""
    if device.type != "cuda" or precision == Precision.FP32:
        yield
        return
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(_TF32)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


def compute_dtype(tensor: torch.Tensor) -> torch.dtype:
    """The dtype a matrix product on ``tensor`` runs in here: autocast's when it is on for the
    tensor's device, else the tensor's own. For custom autograd functions, which must save
    what their backward multiplies in the same dtype as the gradient."""
    device = tensor.device.type
    if tensor.is_floating_point() and torch.is_autocast_enabled(device):
        return torch.get_autocast_dtype(device)
    return tensor.dtype
