from dataclasses import replace

import pandas as pd

from radsweep.tasks.synthetic import SynthConfig
from radsweep.tasks.synthetic.cohort import FINDINGS, sample_cohort
from radsweep.tasks.synthetic.reports import extract_finding, write_report
from tests import PUBLIC_SAMPLES

PUBLIC = PUBLIC_SAMPLES
CONFIG = SynthConfig(samples=300, seed=3)


def test_the_labeler_reads_back_what_every_report_asserts() -> None:
    for study in sample_cohort(CONFIG):
        assert extract_finding(write_report(study, CONFIG)) == study.reported_finding


def test_reports_follow_the_mimic_layout() -> None:
    report = write_report(sample_cohort(CONFIG)[0], CONFIG)
    lines = report.split("\n")
    assert lines[0].strip() == "FINAL REPORT" and lines[0].startswith(" " * 20)
    assert report.endswith("\n")
    assert all(line.startswith(" ") and len(line) <= 79 for line in lines[1:-1])
    assert " FINDINGS: " in lines and " IMPRESSION: " in lines
    assert "___" in report  # de-identified age, as in MIMIC


def test_reports_are_reproducible_and_paraphrased() -> None:
    studies = sample_cohort(CONFIG)
    assert write_report(studies[5], CONFIG) == write_report(studies[5], CONFIG)
    impressions = {
        write_report(s, CONFIG).rsplit("IMPRESSION:", 1)[1].strip()
        for s in studies
        if FINDINGS[s.reported_finding] == "Edema"
    }
    assert len(impressions) >= 5


def test_labeler_on_public_reports() -> None:
    example = (PUBLIC / "mimic_cxr_example_report.txt").read_text()
    assert FINDINGS[extract_finding(example)] == "Pleural Effusion"
    normal = pd.read_csv(PUBLIC / "sample_reports.csv", header=None)[0][0]
    assert "No edema" in normal
    assert extract_finding(normal) is None  # everything mentioned is negated


def test_only_a_privileged_report_tells_the_patients_state() -> None:
    """Without the privileged report, two studies that differ only in their acute and chronic
    state get the same report: its state phrases are graded from draws unrelated to either."""
    study = sample_cohort(CONFIG)[7]
    other_state = replace(study, severity=study.severity + 3, history=study.history - 3)
    assert write_report(study, CONFIG) != write_report(other_state, CONFIG)
    unrelated = CONFIG.model_copy(update={"report_privileged": False})
    report = write_report(study, unrelated)
    assert report == write_report(other_state, unrelated)
    assert extract_finding(report) == study.reported_finding
