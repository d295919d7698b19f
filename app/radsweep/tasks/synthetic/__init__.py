"""The synthetic causal benchmark: the embedded default dataset (the paper's Appendix B.1)."""

from radsweep.tasks.synthetic.build import SynthBenchmark, synthesize
from radsweep.tasks.synthetic.config import SynthConfig
from radsweep.tasks.synthetic.tasks import SYNTHETIC_TASKS

__all__ = ["SYNTHETIC_TASKS", "SynthBenchmark", "SynthConfig", "synthesize"]
