"""``radsweep demo`` at its default size: the pipeline, the paired claims it exists to show, and a
second run that reuses everything. The demo runs once per session (``conftest.demo_home``)."""

import pandas as pd
import pytest

from radsweep.cli.main import cli
from tests.conftest import DEMO_TIMEOUT, DemoHome
from tests.test_readme import GAINS, readme_findings, shown

DEMO_RUNS = 9  # 6 on the default benchmark, 3 on draw 1


def _finding(findings: pd.DataFrame, task: str, fraction: float) -> pd.Series:
    rows = findings[(findings["task"] == task) & (findings["fraction"] == fraction)]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.mark.slow
@pytest.mark.timeout(DEMO_TIMEOUT)
def test_the_demo_shows_the_control(demo_home: DemoHome) -> None:
    report = demo_home.report
    if demo_home.first_output is not None:  # built in this session: its first run's notes
        first = demo_home.first_output
        assert "built synthetic benchmark (2000 samples)" in first
        assert "built benchmark draw 1 (2000 samples)" in first
        assert f"{DEMO_RUNS} configurations" in first
        assert "distill - self-distill" in first
        assert "replicated on 2 of 2 draws" in first
    html = (report / "report.html").read_text()
    body = html[html.index("<body>") :]
    assert body.index('id="findings"') < body.index('id="how-to-read"') < body.index("Sample eff")
    assert (report / "figures" / "findings.png").is_file()
    assert list((demo_home.home / "wandb").rglob("*.wandb"))  # offline W&B runs

    findings = pd.read_csv(report / "data" / "findings.csv")
    smallest = findings["fraction"].min()
    prognostic = _finding(findings, "synth-prognostic", smallest)
    # The paper's control, paired by seed over 10 seeds on each of 2 benchmark draws: the
    # report's content helps here, on every draw...
    assert prognostic["seeds"] == 20
    assert prognostic["distill - self-distill low"] > 0
    assert prognostic["distill - image mean"] > 0
    # ...and not where the label is read off the report: no more than self-distillation.
    diagnostic = _finding(findings, "synth-diagnostic", smallest)
    assert (
        diagnostic["distill - self-distill low"] <= 0 <= diagnostic["distill - self-distill high"]
    )

    quoted = readme_findings()
    assert {row["task"] for row in quoted} == {"synth-diagnostic", "synth-prognostic"}
    for row in quoted:  # the README quotes exactly what this run found
        found = _finding(findings, row["task"], float(row["fraction"]))
        assert int(row["seeds"]) == found["seeds"]
        for label in GAINS:
            interval = (found[f"{label} {end}"] for end in ("mean", "low", "high"))
            assert row[label] == shown(*interval), (row["task"], label)


@pytest.mark.slow
@pytest.mark.timeout(DEMO_TIMEOUT)
def test_a_second_demo_reuses_everything(
    demo_home: DemoHome, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["--home", str(demo_home.home), "demo", "--workers", "2"]) == 0
    second = capsys.readouterr().out
    assert "reused synthetic benchmark" in second
    assert f"all {DEMO_RUNS} runs of the demo sweep are stored: nothing to train" in second
    assert f"report unchanged: the same {DEMO_RUNS} runs" in second
    findings = pd.read_csv(demo_home.report / "data" / "findings.csv")
    smallest = findings["fraction"].min()
    assert f"synth-prognostic at fraction {smallest:g}: the report helped" in second
