"""``bench sweep``: its table rows and ratio come from the stage timings."""

import pytest

from radsweep.bench.sweep import STAGES, SweepBench


def test_rows_name_the_overhead_and_share_training() -> None:
    seconds = dict(zip(STAGES, (10.0, 1.0, 0.5, 0.5, 2.0, 1.0), strict=True))
    bench = SweepBench(runs=4, seconds=seconds, total=15.0, preparation=3.0)
    rows = {label: (total, per_run, share) for label, total, per_run, share in bench.rows()}
    assert list(rows) == [
        "training",
        "queue (overhead)",
        "tracking (overhead)",
        "store (overhead)",
        "features",
        "other",
    ]
    assert rows["queue (overhead)"] == (1.0, 0.25, 0.1)
    assert bench.ratio == pytest.approx(0.2)
    assert bench.lines()[-1] == "ratio overhead/training time: 0.200"
    assert bench.summary()["ratios"] == {"overhead_over_training": pytest.approx(0.2)}
