"""The synthetic causal benchmark: the embedded default dataset (the paper's Appendix B.1).

Its names load on first use, so reading the knobs (``SynthConfig``) imports no pandas or OpenCV.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from radsweep.tasks.synthetic.build import SynthBenchmark, synthesize
    from radsweep.tasks.synthetic.config import SynthConfig
    from radsweep.tasks.synthetic.tasks import SYNTHETIC_TASKS

__all__ = ["SYNTHETIC_TASKS", "SynthBenchmark", "SynthConfig", "synthesize"]

_HOMES = {
    "SynthBenchmark": "build",
    "synthesize": "build",
    "SynthConfig": "config",
    "SYNTHETIC_TASKS": "tasks",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
