"""The knobs do what they say: each modality carries the share of the label it is set to."""

from pathlib import Path

import pytest

from radsweep.tasks.probe import probe, thumbnails
from radsweep.tasks.synthetic import SynthBenchmark, SynthConfig, synthesize


def test_report_determines_the_diagnostic_label_but_not_the_prognostic_one(
    small_benchmark: SynthBenchmark,
) -> None:
    diagnostic = probe(small_benchmark.manifest("synth-diagnostic"))
    prognostic = probe(small_benchmark.manifest("synth-prognostic"))
    assert diagnostic.report_auc >= 0.97
    assert prognostic.report_auc <= diagnostic.report_auc - 0.1
    assert prognostic.report_auc >= 0.6  # the report still carries part of the latent state


def test_age_shows_in_the_image_more_than_in_the_report(small_benchmark: SynthBenchmark) -> None:
    age = probe(small_benchmark.manifest("synth-age"))
    assert age.image_auc >= 0.65
    assert age.image_auc > age.report_auc + 0.05


@pytest.mark.slow
def test_finding_visibility_controls_how_much_the_image_shows(tmp_path: Path) -> None:
    aucs = {}
    for visibility in (0.0, 1.0):
        config = SynthConfig(samples=500, finding_visibility=visibility, seed=5)
        manifest = synthesize(config, tmp_path / str(visibility)).manifest("synth-diagnostic")
        aucs[visibility] = probe(manifest, thumbnails(manifest)).image_auc
    assert aucs[0.0] < 0.65 < 0.85 < aucs[1.0]


@pytest.mark.slow
def test_report_weight_controls_how_much_the_report_predicts_the_outcome(tmp_path: Path) -> None:
    aucs = {}
    for weight in (0.0, 3.0):
        config = SynthConfig(
            samples=800,
            prognosis_image_weight=0.0,
            prognosis_report_weight=weight,
            outcome_noise=0.3,
            image_size=64,
            seed=5,
        )
        manifest = synthesize(config, tmp_path / str(weight)).manifest("synth-prognostic")
        aucs[weight] = probe(manifest).report_auc
    assert aucs[0.0] < 0.62 < 0.75 < aucs[3.0]


@pytest.mark.slow
def test_severity_visibility_controls_how_much_the_image_predicts_the_outcome(
    tmp_path: Path,
) -> None:
    aucs = {}
    for visibility in (0.0, 1.0):
        config = SynthConfig(
            samples=600,
            severity_visibility=visibility,
            prognosis_report_weight=0.0,
            outcome_noise=0.3,
            image_size=64,
            seed=5,
        )
        manifest = synthesize(config, tmp_path / str(visibility)).manifest("synth-prognostic")
        aucs[visibility] = probe(manifest, thumbnails(manifest)).image_auc
    assert aucs[0.0] + 0.1 < aucs[1.0]
