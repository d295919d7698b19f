"""``bench synth``: the projection and the ratio follow from the two timings."""

from radsweep.bench.synth import BUDGET_SECONDS_PER_2000, SynthBench


def test_the_projection_and_ratio_follow_from_the_timings() -> None:
    bench = SynthBench(samples=500, drawing_seconds=2.0, end_to_end_seconds=5.0)
    assert bench.projected_seconds == 20.0 and bench.ratio == 0.4
    lines = bench.lines()
    assert lines[0] == "drawing only :    250.0 images/s"
    assert f"(budget {BUDGET_SECONDS_PER_2000:.0f} s, 1.50x headroom)" in lines[2]
    assert lines[-1] == "ratio end-to-end/drawing throughput: 0.400"
    assert bench.summary()["ratios"] == {"end_to_end_over_drawing": 0.4}
