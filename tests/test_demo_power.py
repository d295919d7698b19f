"""The demo's benchmark is designed for power, not tuned to a draw: with the demo's settings the
prognostic control resolves on every benchmark draw, the diagnostic control shows no gain on
any draw, without the report's privileged content the prognostic control contains 0 on every
draw, and what that content adds (the same seeds' distilled students with it and without it)
excludes 0 on every draw. docs/synthetic.md quotes the numbers; changing a benchmark default
means re-running this (``python -m pytest --power tests/test_demo_power.py -s``: about 20
minutes on two cores, so the suite leaves it out unless ``--power`` is given).
"""

from pathlib import Path

import numpy as np
import pytest

from radsweep.demo import demo_configs, draw_directory, draw_suffix
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import prepare, training_inputs
from radsweep.settings import Settings
from radsweep.stats import Interval, t_interval
from radsweep.tasks.synthetic import SynthConfig, synthesize
from radsweep.training import Method, fit

GENERATOR_SEEDS = (0, 1, 2, 3, 4)


def _distilled(settings: Settings, configs: list[RunConfig], task: str) -> dict[Method, np.ndarray]:
    """Per-seed final AUC of distillation and self-distillation, the demo's configurations of
    ``task`` at its smallest fraction (scored on each seed's held-out rows)."""
    chosen = [c for c in configs if c.task == task and c.method.distils]
    smallest = min(c.fraction for c in chosen)
    final: dict[Method, np.ndarray] = {}
    for config in (c for c in chosen if c.fraction == smallest):
        prepared = prepare(config, settings, device="cpu")
        data, rows = training_inputs(prepared)
        train = prepared.config.train_config(prepared.manifest.task)
        final[config.method] = fit(data, rows.splits, train, device="cpu").model.final_auc
    return final


def _control(final: dict[Method, np.ndarray]) -> Interval:
    """distill - self-distill, paired by seed."""
    return t_interval(final[Method.DISTILL] - final[Method.SELF_DISTILL])


def test_demo_configs_replicate_the_prognostic_comparison_on_every_draw(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    for draw in range(2):
        config = SynthConfig(samples=60, image_size=64, seed=draw)
        synthesize(config, draw_directory(settings, draw), suffix=draw_suffix(draw))
    configs = demo_configs(settings, draws=2)
    base = [c for c in configs if "." not in c.task]
    replicated = [c for c in configs if c.task.endswith(".draw1")]
    smallest = min(c.fraction for c in base)
    assert {c.task for c in replicated} == {"synth-prognostic.draw1"}
    assert {(c.task.removesuffix(".draw1"), c.method, c.fraction) for c in replicated} == {
        (c.task, c.method, c.fraction)
        for c in base
        if c.fraction == smallest and c.task == "synth-prognostic"
    }
    assert all(c.scoring == "held-out" for c in configs)


@pytest.mark.power
@pytest.mark.timeout(3600)  # one draw: about 4 minutes on two quiet cores, far more when loaded
@pytest.mark.parametrize("generator_seed", GENERATOR_SEEDS)
def test_the_control_resolves_on_every_benchmark_draw(tmp_path: Path, generator_seed: int) -> None:
    finals: dict[tuple[str, bool], dict[Method, np.ndarray]] = {}
    for privileged in (True, False):
        settings = Settings(home=tmp_path / str(privileged))
        synthesize(
            SynthConfig(seed=generator_seed, report_privileged=privileged), settings.synthetic
        )
        configs = demo_configs(settings, draws=1)
        tasks = ("synth-prognostic", "synth-diagnostic") if privileged else ("synth-prognostic",)
        for task in tasks:
            finals[task, privileged] = _distilled(settings, configs, task)
    controls: dict[tuple[str, bool] | str, Interval] = {
        key: _control(final) for key, final in finals.items()
    }
    # What the report's content adds: the same seeds' distilled students, with the privileged
    # report and without it (splits and initialisations are the seed's in both).
    controls["content"] = t_interval(
        finals["synth-prognostic", True][Method.DISTILL]
        - finals["synth-prognostic", False][Method.DISTILL]
    )
    shown = {
        key: (round(i.mean, 4), round(i.low, 4), round(i.high, 4)) for key, i in controls.items()
    }
    print(f"generator seed {generator_seed}: {shown}")  # the numbers docs/synthetic.md quotes
    prognostic = controls["synth-prognostic", True]
    assert prognostic.low > 0, shown
    # A label read off the report leaves the report nothing to add: no gain. Not "contains 0":
    # the report-aware teacher echoes the labels, including those of the reports that name
    # another finding than the one drawn, which self-distillation's image teacher smooths as
    # noise: a lead of about 0.01 that 40 seeds resolve on some draws (docs/synthetic.md).
    diagnostic = controls["synth-diagnostic", True]
    assert diagnostic.low <= 0, shown  # no gain
    assert diagnostic.mean > -0.02, shown  # and a small loss at most
    plain = controls["synth-prognostic", False]
    assert controls["content"].low > 0, shown
    assert plain.low <= 0 <= plain.high, shown
    assert np.isfinite([prognostic.half_width, diagnostic.half_width, plain.half_width]).all()
