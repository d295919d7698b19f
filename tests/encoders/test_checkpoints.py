"""The generic checkpoint adapter: containers, prefixes, drop lists, strict loads, identities."""

import argparse
import contextlib
import datetime
import hashlib
import random
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from radsweep.encoders.checkpoints import (
    RELEASE_GLOBALS,
    CheckpointFormat,
    HubSource,
    adapt,
    load_checkpoint,
    load_strict,
    local_identity,
    read_checkpoint,
    resolve_weights,
)
from radsweep.errors import WeightsError
from tests.encoders.hostile import PAYLOADS, hostile_checkpoint

LINEAR = {"weight": torch.ones(2, 3), "bias": torch.zeros(2)}


def test_adapt_picks_the_container_strips_the_prefix_and_drops_extras() -> None:
    raw = {
        "epoch": 3,
        "model": {"net.module.weight": LINEAR["weight"], "net.module.bias": LINEAR["bias"]}
        | {"net.module.head.weight": torch.ones(1), "decoder.weight": torch.ones(1)},
    }
    fmt = CheckpointFormat(
        containers=("state_dict", "model"), prefixes=("net.module.",), drop=("head.",)
    )
    assert adapt(raw, fmt, "x.pth").keys() == {"weight", "bias"}


def test_the_first_matching_prefix_wins_and_the_top_level_can_be_the_container() -> None:
    fmt = CheckpointFormat(containers=("model", ""), prefixes=("module.", ""))
    assert adapt({"module.weight": torch.ones(1)}, fmt, "x").keys() == {"weight"}
    assert adapt({"weight": torch.ones(1)}, fmt, "x").keys() == {"weight"}


def test_a_missing_container_or_prefix_names_what_the_file_has() -> None:
    with pytest.raises(
        WeightsError, match=r"no state dict under 'model' \(top-level keys: 2: a, b\)"
    ):
        adapt({"a": 1, "b": {"w": torch.ones(1)}}, CheckpointFormat(containers=("model",)), "x")
    with pytest.raises(
        WeightsError, match=r"no key starts with visual\. \(keys start with 1: text\)"
    ):
        adapt({"text.w": torch.ones(1)}, CheckpointFormat(prefixes=("visual.",)), "x")


def test_load_strict_reports_missing_unexpected_and_misshapen_keys_at_once() -> None:
    state = {"weight": torch.ones(2, 4), "extra": torch.ones(1)}
    with pytest.raises(WeightsError) as error:
        load_strict(torch.nn.Linear(3, 2), state, "w.pt")
    line = error.value.one_line()
    assert "missing keys 1: bias" in line and "unexpected keys 1: extra" in line
    assert "wrong shapes 1: weight" in line and "\n" not in line


def test_batch_norm_counters_may_be_absent_from_old_checkpoints() -> None:
    norm = torch.nn.BatchNorm1d(2)
    state = {k: v + 1 for k, v in norm.state_dict().items() if k != "num_batches_tracked"}
    load_strict(norm, state, "old.pth")
    assert torch.equal(norm.running_mean, torch.ones(2))


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".bin"])
@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_a_checkpoint_that_would_run_code_is_refused_in_one_line(
    suffix: str, payload: str, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    path = hostile_checkpoint(tmp_path / f"release{suffix}", payload, marker)
    with pytest.raises(WeightsError) as error:
        load_checkpoint(torch.nn.Linear(3, 2), path, CheckpointFormat(containers=("model",)))
    line = error.value.one_line()
    assert f"release{suffix}: refused to load, it pickles " in line and payload in line
    assert "\n" not in line and "safetensors" in line
    assert not marker.exists()


def test_only_the_named_release_globals_are_let_through_and_they_keep_nothing(
    tmp_path: Path,
) -> None:
    torch.save({"model": dict(LINEAR), "args": argparse.Namespace(lr=0.1)}, tmp_path / "a.pth")
    raw = read_checkpoint(tmp_path / "a.pth")
    assert torch.equal(raw["model"]["weight"], LINEAR["weight"])
    assert not vars(raw["args"])  # read as an inert stand-in: no class of the file is built
    assert "argparse.Namespace" in RELEASE_GLOBALS and len(RELEASE_GLOBALS) < 10
    torch.save({"model": dict(LINEAR), "when": datetime.date(2020, 1, 1)}, tmp_path / "b.pth")
    with pytest.raises(WeightsError, match=r"b\.pth: refused to load, it pickles datetime\.date"):
        read_checkpoint(tmp_path / "b.pth")


def test_plain_state_dicts_nested_containers_and_numbers_still_load(tmp_path: Path) -> None:
    content = {
        "model": {"net.module.weight": LINEAR["weight"], "net.module.bias": LINEAR["bias"]},
        "optimizer": {"state": {0: {"step": torch.tensor(3.0)}}, "param_groups": [{"lr": 0.1}]},
        "epoch": 7,
        "meta": OrderedDict(note="plain", sizes=(1, 2), best=float("inf")),
    }
    for suffix, zipped in ((".pth", True), (".pt", False)):
        torch.save(content, tmp_path / f"w{suffix}", _use_new_zipfile_serialization=zipped)
        module = torch.nn.Linear(3, 2)
        fmt = CheckpointFormat(containers=("model",), prefixes=("net.module.",))
        load_checkpoint(module, tmp_path / f"w{suffix}", fmt)
        assert torch.equal(module.weight, LINEAR["weight"])


def test_files_that_are_not_checkpoints_are_named(tmp_path: Path) -> None:
    (tmp_path / "notes.pth").write_text("not a checkpoint")
    with pytest.raises(WeightsError, match=r"notes\.pth is not a PyTorch"):
        read_checkpoint(tmp_path / "notes.pth")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="holds a list, not a state dict"):
        read_checkpoint(tmp_path / "list.pt")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        read_checkpoint(tmp_path / "bad.safetensors")


def test_identities_hash_the_file_or_the_folder(tmp_path: Path) -> None:
    file = tmp_path / "w.pt"
    torch.save(LINEAR, file)
    assert local_identity(file) == f"sha256:{hashlib.sha256(file.read_bytes()).hexdigest()}"
    before = local_identity(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    assert local_identity(tmp_path) != before
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WeightsError, match="no weight files"):
        local_identity(empty)


def test_hub_ids_with_a_revision_fail_offline_with_the_local_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub = HubSource("owner/model", ("config.json",), "config.json")
    with pytest.raises(WeightsError, match="cannot load owner/other: not in the HF cache"):
        resolve_weights("owner/other@v1.0", hub)


def test_damaged_checkpoints_are_one_error_never_an_escaping_exception(tmp_path: Path) -> None:
    clean = tmp_path / "clean.pt"
    torch.save({"model": dict(LINEAR), "epoch": 3}, clean, _use_new_zipfile_serialization=False)
    data, rng = clean.read_bytes(), random.Random(0)
    for trial in range(200):
        damaged = bytearray(data)
        for _ in range(3):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path = tmp_path / f"damaged{trial}.pt"
        path.write_bytes(bytes(damaged[: rng.randrange(1, len(damaged) + 1)]))
        with contextlib.suppress(WeightsError):  # a flip in a tensor's bytes may still load
            read_checkpoint(path)
