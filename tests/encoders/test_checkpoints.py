"""The generic checkpoint adapter: containers, prefixes, drop lists, strict loads, identities."""

import hashlib
from pathlib import Path

import pytest
import torch

from radsweep.encoders.checkpoints import (
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


class Hostile:
    """Pickles as a call that would create a file: loading must never run it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


def test_pickled_objects_beside_the_weights_are_stubbed_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    torch.save({"model": dict(LINEAR), "hook": Hostile(marker)}, tmp_path / "ckpt.pth")
    module = torch.nn.Linear(3, 2)
    load_checkpoint(module, tmp_path / "ckpt.pth", CheckpointFormat(containers=("model",)))
    assert not marker.exists()
    assert torch.equal(module.weight, torch.ones(2, 3))


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
