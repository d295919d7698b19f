"""``radsweep features encoders``: the registry as a table."""

import pytest

from radsweep.cli.main import cli


def test_features_encoders_lists_every_encoder_with_its_token_layout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(["features", "encoders"]) == 0
    output = capsys.readouterr().out
    for name in ("rad-dino", "c2l", "medical-mae", "mrm", "gloria", "biomedclip", "minilm"):
        assert name in output
    assert "image encoders" in output and "text encoders" in output
    assert "37x37" in output and "14x14" in output and "2048" in output
    assert " paper-299 " in output  # GLoRIA's variants under its name


def test_features_encoders_filters_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["features", "encoders", "--kind", "text"]) == 0
    output = capsys.readouterr().out
    assert "bio-clinicalbert" in output and "medical-mae" not in output
    assert "image encoders" not in output


def test_an_unknown_kind_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["features", "encoders", "--kind", "audio"]) == 2
    assert capsys.readouterr().err.strip() == (
        "radsweep: error: unknown encoder kind 'audio' — use 'image' or 'text'"
    )
