"""Which torch device a command, a run or a fit uses: one rule, so they never disagree.

``auto`` (or nothing) means the first CUDA GPU when one is visible, else the CPU. A named device is
checked here, where the user's flag is still at hand, rather than failing deep inside a model's
``.to()`` with a driver message.
"""

from typing import TYPE_CHECKING

from radsweep.errors import RadsweepError

if TYPE_CHECKING:
    import torch

AUTO = "auto"
_HINT = "use auto, cpu, cuda or cuda:N"


def resolve_device(name: "str | torch.device | None" = None) -> "torch.device":
    """The device for ``name``: None or ``"auto"`` picks CUDA when available, else the CPU."""
    import torch

    if name is None or name == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError) as error:
        raise RadsweepError(f"unknown device {str(name)!r}", hint=_HINT) from error
    if device.type == "cuda":
        _check_cuda(device)
    elif device.type != "cpu":
        raise RadsweepError(f"device {str(name)!r} is not supported", hint=_HINT)
    return device


def _check_cuda(device: "torch.device") -> None:
    import torch

    if not torch.cuda.is_available():
        raise RadsweepError(
            f"device {str(device)!r} asked for, but no CUDA GPU is visible",
            hint="use --device cpu (or auto), or check the driver with nvidia-smi",
        )
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise RadsweepError(
            f"device {str(device)!r} asked for, but only {count} CUDA GPU(s) are visible",
            hint=f"use cuda:0 .. cuda:{count - 1}",
        )
