"""``radsweep demo`` at its default size: the pipeline, the paired claims it exists to show, and a
second run that reuses everything. The demo runs once per session (``conftest.demo_home``)."""

from pathlib import Path

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
    html = (report / "report.html").read_text()
    body = html[html.index("<body>") :]
    assert body.index('id="findings"') < body.index('id="how-to-read"') < body.index("Sample eff")
    assert (report / "figures" / "findings.png").is_file()
    assert list((demo_home.home / "wandb").rglob("*.wandb"))  # offline W&B runs

    findings = pd.read_csv(report / "data" / "findings.csv")
    smallest = findings["fraction"].min()
    prognostic = _finding(findings, "synth-prognostic", smallest)
    assert prognostic["seeds"] == 80  # 40 seeds on each of 2 benchmark draws, pooled
    assert _finding(findings, "synth-diagnostic", smallest)["seeds"] == 40
    # The benchmark is designed for this effect (docs/synthetic.md; its five-draw gate checks it)
    assert prognostic["distill - self-distill low"] > 0, prognostic.to_dict()
    assert str(prognostic["verdict"]).endswith("replicated on 2 of 2 draws"), prognostic["verdict"]
    for row in findings.to_dict("records"):  # a verdict never outruns its interval
        low, high = row["distill - self-distill low"], row["distill - self-distill high"]
        verdict = str(row["verdict"])
        assert not verdict.startswith("the report helped") or low > 0, row
        if low <= 0 <= high:
            assert verdict.startswith(("not resolved", "no paired gain")), row

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
    for row in findings.to_dict("records"):  # the verdicts printed are the report's
        assert f"{row['task']} at fraction {row['fraction']:g}: {row['verdict']}" in second


@pytest.mark.slow
@pytest.mark.timeout(DEMO_TIMEOUT)
def test_report_of_the_demo_spec_is_the_demos_report(demo_home: DemoHome, tmp_path: Path) -> None:
    """``radsweep report demo`` draws exactly the demo's runs: the same findings, row for row."""
    out = tmp_path / "report"
    assert cli(["--home", str(demo_home.home), "report", "demo", "--out", str(out)]) == 0
    for table in ("findings", "sample-efficiency-auc"):
        pd.testing.assert_frame_equal(
            pd.read_csv(out / "data" / f"{table}.csv"),
            pd.read_csv(demo_home.report / "data" / f"{table}.csv"),
        )
