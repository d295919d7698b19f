"""What the plan assumes about a device: ceilings from data sheets, shares of them that head
training achieves, and the fixed costs no FLOP count sees.

Every number here is an assumption the plan prints (``--json`` carries each with its source). The
achieved share of a precision's ceiling is a fraction below one, so a projection can never run
faster than the device's data sheet allows at the precision the runs use. ``radsweep bench gpu``
replaces the assumed shares with measured ones (``measured.py``).
"""

from dataclasses import dataclass, field
from typing import Literal

Precision = Literal["fp32", "tf32", "bf16"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "tf32", "bf16")
DEFAULT_PRECISION: Precision = "bf16"  # the GPU default of head training

# Shares of a precision's dense peak that head training sustains on its GEMMs (the attention
# head's products are large batched GEMMs: RAD-DINO's score map is [S, 64 x 1,369, 768] x
# [768, 768]). Assumed, not measured: cuBLAS reaches about 70-80 % of the SIMT fp32 peak and
# 50-70 % of the tensor-core peak on large GEMMs; the heads' mid-sized and batched products
# reach less.
ACHIEVED = {"fp32": 0.6, "tf32": 0.45, "bf16": 0.35}
ACHIEVED_SOURCE = "assumed share of the dense peak on the heads' GEMMs"
EXTRACT_SHARE = 0.5  # a frozen backbone's inference under autocast: large convolutions and GEMMs
BANDWIDTH_SHARE = 0.7  # of the data-sheet memory bandwidth, for streaming elementwise kernels
USABLE_MEMORY = 0.9  # of device memory: the CUDA context and the allocator's slack take the rest
# Host-bound time of one step: about 150 kernel launches for 5 seeds (per-seed gathers and
# dropout draws, the forward and backward kernels, a per-parameter Adam) at about 7 us each.
STEP_FLOOR_S = 1.0e-3
EVAL_FLOOR_S = 0.3e-3  # one validation chunk: the forward kernels alone
# One run's fixed cost: interpreter and imports (torch, wandb) 4 s, CUDA context 1 s, wandb.init
# and finish 4 s, opening the caches 1 s. The W&B agent starts one process per run.
RUN_OVERHEAD_S = 10.0
DISK_BYTES_PER_S = 2.0e9  # one NVMe SSD, sequential reads (fp16 caches are memory-mapped)
UPLOAD_BYTES_PER_S = 50e6  # W&B artifact upload: 400 Mbit/s


@dataclass(frozen=True)
class DeviceSpec:
    """One device's data-sheet ceilings (dense, no sparsity) and the costs around them."""

    kind: str  # the name ``--device`` takes, and ``gpu-rates.json``'s ``device_kind``
    name: str
    peak_tflops: dict[str, float]  # per head precision, after any fallback
    extract_tflops_peak: float  # the mixed precision extraction runs in (bf16, or fp16)
    memory_bytes: float
    bandwidth_bytes_per_s: float
    source: str
    fallback: dict[str, str] = field(default_factory=dict)  # precision -> what runs instead
    step_floor_s: float = STEP_FLOOR_S  # host-bound: the same launch cost on every GPU here
    eval_floor_s: float = EVAL_FLOOR_S
    achieved: dict[str, float] = field(default_factory=lambda: dict(ACHIEVED))

    def precision_used(self, precision: str) -> str:
        """The precision the device really computes in (a T4 has no bf16 or TF32)."""
        return self.fallback.get(precision, precision)

    def train_flops_per_s(self, precision: str) -> float:
        """Sustained head-training FLOP/s: an achieved share of the precision's ceiling."""
        used = self.precision_used(precision)
        return self.peak_tflops[used] * 1e12 * self.achieved[used]

    @property
    def extract_flops_per_s(self) -> float:
        return self.extract_tflops_peak * 1e12 * EXTRACT_SHARE

    @property
    def bandwidth(self) -> float:
        """Bytes/s that streaming kernels sustain."""
        return self.bandwidth_bytes_per_s * BANDWIDTH_SHARE

    @property
    def usable_memory(self) -> float:
        return self.memory_bytes * USABLE_MEMORY


_GB = 1e9
DEVICES: dict[str, DeviceSpec] = {
    "h100": DeviceSpec(
        "h100",
        "H100 SXM",
        {"fp32": 67.0, "tf32": 494.0, "bf16": 989.0},
        989.0,
        80 * _GB,
        3.35e12,
        "NVIDIA H100 SXM data sheet, dense",
    ),
    "a100": DeviceSpec(
        "a100",
        "A100 SXM",
        {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0},
        312.0,
        80 * _GB,
        2.0e12,
        "NVIDIA A100 SXM 80GB data sheet, dense",
    ),
    "l4": DeviceSpec(
        "l4",
        "L4",
        {"fp32": 30.3, "tf32": 60.0, "bf16": 121.0},
        121.0,
        24 * _GB,
        300e9,
        "NVIDIA L4 data sheet, dense",
    ),
    "t4": DeviceSpec(
        "t4",
        "T4",
        {"fp32": 8.1},
        65.0,  # fp16 tensor cores: extraction autocasts to fp16 there
        16 * _GB,
        320e9,
        "NVIDIA T4 data sheet (fp16 65 TFLOP/s for extraction)",
        fallback={"bf16": "fp32", "tf32": "fp32"},
    ),
}


def device_spec(kind: str) -> DeviceSpec | None:
    return DEVICES.get(kind.lower())


def element_bytes(precision: str) -> int:
    """Bytes of an activation the heads' products write: 2 under bf16 autocast, else 4."""
    return 2 if precision == "bf16" else 4
