"""Checkpoints that would run code when unpickled, generated per test (nothing hostile is stored).

Each payload creates ``marker`` if it ever runs, so a test proves it did not by the marker's
absence. The files cover the formats a release comes in: a zip-format ``torch.save`` (``.pth``),
the legacy ``torch.save`` format (``.pt``) and a bare pickle (``.bin``), each with the payload
beside real weights.
"""

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import torch

WEIGHTS = {"weight": torch.ones(2, 3), "bias": torch.zeros(2)}


class Popen:
    """Unpickles as ``subprocess.Popen(['touch', marker])``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (subprocess.Popen, (["touch", str(self.marker)],))


class System:
    """Unpickles as ``os.system('touch marker')``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


PAYLOADS = {"subprocess.Popen": Popen, "system": System}


def hostile_checkpoint(path: Path, payload: str, marker: Path, state: Any = None) -> Path:
    """A release-shaped file (``{model: state, args: payload}``) in the format its suffix says."""
    content = {"model": dict(WEIGHTS) if state is None else state}
    content["args"] = PAYLOADS[payload](marker)
    if path.suffix == ".bin":  # a bare pickle holds no torch storages: plain numbers instead
        content["model"] = {key: value.tolist() for key, value in content["model"].items()}
        path.write_bytes(pickle.dumps(content, protocol=2))
    else:
        torch.save(content, path, _use_new_zipfile_serialization=path.suffix != ".pt")
    return path


@contextmanager
def importable_as(classes: dict[str, type]) -> Iterator[None]:
    """Let pickle save each class under the given dotted name (a package the tests lack, such
    as OmegaConf), by registering stand-in modules only while the body runs."""
    modules: dict[str, ModuleType] = {}
    for dotted, cls in classes.items():
        module_name, _, name = dotted.rpartition(".")
        for depth in range(1, module_name.count(".") + 2):
            parent = ".".join(module_name.split(".")[:depth])
            modules.setdefault(parent, ModuleType(parent))
        setattr(modules[module_name], name, cls)
        cls.__module__, cls.__qualname__ = module_name, name
    with mock.patch.dict(sys.modules, modules):
        yield
