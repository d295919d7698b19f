"""One device rule for every command, run and fit."""

import re
from pathlib import Path

import pytest
import torch

from radsweep.devices import resolve_device
from radsweep.errors import RadsweepError

PACKAGE = Path(__file__).parents[1] / "app" / "radsweep"


def _cuda(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


@pytest.mark.parametrize("name", [None, "auto"])
def test_auto_picks_cuda_when_visible(monkeypatch: pytest.MonkeyPatch, name: str | None) -> None:
    _cuda(monkeypatch, 2)
    assert resolve_device(name) == torch.device("cuda")
    _cuda(monkeypatch, 0)
    assert resolve_device(name) == torch.device("cpu")


def test_named_devices_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    _cuda(monkeypatch, 2)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize(
    ("name", "gpus", "says"),
    [("gpu0", 1, "unknown device"), ("cuda", 0, "no CUDA GPU"), ("cuda:3", 2, "only 2")],
)
def test_bad_devices_are_user_errors(
    monkeypatch: pytest.MonkeyPatch, name: str, gpus: int, says: str
) -> None:
    _cuda(monkeypatch, gpus)
    with pytest.raises(RadsweepError, match=says) as raised:
        resolve_device(name)
    assert raised.value.hint


def test_no_other_module_chooses_a_device() -> None:
    """The rule lives in one function: nothing else asks torch whether CUDA is there."""
    asking = re.compile(r"cuda\.is_available\(")
    others = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "devices.py" and asking.search(path.read_text(encoding="utf-8"))
    ]
    assert others == []
