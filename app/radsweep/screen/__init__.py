"""``radsweep screen``: will reports help on this task? The paper's three questions, in minutes.

How much the report and the image each say about the label, whether a teacher that reads the
report has headroom over image-only, and whether distillation beats self-distillation (the
control) at two small training sizes; then a verdict with its evidence and a sweep spec that
would confirm it.
"""

from radsweep.screen.plan import ScreenOptions
from radsweep.screen.task import ScreenAnswer, Tracking, screen_task
from radsweep.screen.verdict import Thresholds, Verdict, judge

__all__ = [
    "ScreenAnswer",
    "ScreenOptions",
    "Thresholds",
    "Tracking",
    "Verdict",
    "judge",
    "screen_task",
]
