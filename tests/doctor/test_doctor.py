"""``radsweep doctor`` on a machine without CUDA or a W&B key: each finding is one clear line."""

import hashlib
import json
import shutil
from collections import namedtuple
from pathlib import Path

import pytest
import torch

from radsweep.cli.main import cli
from radsweep.doctor import Level, blocked, examine
from radsweep.settings import Settings
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.tracking.host import settings_file, wandb_server
from radsweep.weights.catalogue import Catalogue, WeightsEntry, catalogue_file, save_catalogue
from tests.conftest import closed_port

Usage = namedtuple("Usage", "total used free")


def _lines(checks: list, area: str) -> list[str]:
    return [check.line() for check in checks if check.area == area]


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def no_wandb_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Online W&B but no key anywhere (an empty netrc); W&B's settings read afresh."""
    import wandb

    netrc = tmp_path / "netrc"
    netrc.write_text("")
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.delenv("WANDB_MODE")
    wandb.teardown()
    yield
    wandb.teardown()


def test_no_cuda_and_no_wandb_key_are_warnings_with_fixes(
    no_cuda: None, no_wandb_key: None
) -> None:
    checks = examine(Settings())
    (torch_line,) = _lines(checks, "torch")
    assert torch_line.startswith("warn") and "no CUDA device — " in torch_line
    (wandb_line,) = _lines(checks, "W&B")
    assert wandb_line.startswith("warn") and "no W&B API key configured — set WANDB_API_KEY" in (
        wandb_line
    )
    assert all("\n" not in check.line() for check in checks)


def test_an_unreachable_server_is_reported_in_bounded_time(unreachable: str) -> None:
    checks = examine(Settings(), server_timeout=1.0)
    (line,) = _lines(checks, "W&B")
    assert line.startswith("warn") and unreachable in line and "WANDB_BASE_URL" in line


def test_missing_weights_give_the_link_and_corrupt_ones_block(tmp_path: Path) -> None:
    copy = tmp_path / "c2l.pth"
    copy.write_bytes(b"weights")
    entry = WeightsEntry(path=copy, sha256=hashlib.sha256(b"other").hexdigest())
    save_catalogue(Catalogue(image={"c2l": entry}), catalogue_file())
    lines = _lines(examine(Settings()), "weights")
    c2l = next(line for line in lines if "image:c2l" in line)
    assert c2l.startswith("FAIL") and "corrupt" in c2l and "weights fetch image:c2l --force" in c2l
    mrm = next(line for line in lines if "image:mrm" in line)
    assert mrm.startswith("warn") and "https://drive.google.com/file/d/" in mrm
    minilm = next(line for line in lines if "text:minilm " in line)
    assert minilm.startswith("ok") and "installed" in minilm  # the demo's own, from its package


def test_built_tasks_are_validated(small_benchmark: SynthBenchmark, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(small_benchmark.directory, data / "benchmark")
    settings = Settings(data_dir=data)
    assert all(line.startswith("ok") for line in _lines(examine(settings), "tasks"))
    (data / "benchmark" / "synth-prognostic" / "manifest.parquet").unlink()
    failing = [line for line in _lines(examine(settings), "tasks") if line.startswith("FAIL")]
    assert len(failing) == 1 and "synth-prognostic" in failing[0]


def test_too_little_disk_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(10**12, 10**12 - 10**9, 10**9))
    checks = examine(Settings(), specs=["fig2-age"])
    (disk,) = _lines(checks, "disk")
    assert disk.startswith("FAIL") and "1 GB free" in disk and "RADSWEEP_CACHE_DIR" in disk
    assert "the caches of fig2-age take" in disk
    assert blocked(checks)


def test_the_disk_check_defaults_to_what_is_set_up() -> None:
    (disk,) = _lines(examine(Settings()), "disk")  # nothing built: the demo, not the study
    assert "the caches of demo take" in disk


def test_an_unreachable_hub_reads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    (hub,) = _lines(examine(Settings(), server_timeout=1.0), "hub")
    assert "offline (http://127.0.0.1:" in hub


def test_the_server_of_wandb_login_host_is_the_one_probed(
    unreachable: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WANDB_BASE_URL")
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(f"[default]\nbase_url = {unreachable}/\n")
    assert wandb_server() == unreachable
    (line,) = _lines(examine(Settings(), server_timeout=1.0), "W&B")
    assert unreachable in line and "wandb login --host" in line


def test_cli_exit_code_follows_blocking_checks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(10**15, 0, 10**15))
    assert cli(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "ok    disk" in out and "FAIL" not in out
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(10**15, 10**15, 0))
    assert cli(["doctor", "fig2-age"]) == 2
    assert Level.FAIL in capsys.readouterr().out


def test_cli_json_lists_every_check_and_blocks_alike(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(10**15, 10**15, 0))
    assert cli(["doctor", "fig2-age", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["blocked"] is True
    disk = next(check for check in report["checks"] if check["area"] == "disk")
    assert disk["level"] == "FAIL" and "RADSWEEP_CACHE_DIR" in disk["fix"]
    assert {"area", "level", "found", "fix"} == set(disk)
