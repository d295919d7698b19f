"""The catalogue file: parsing, and the registry's use of it (present, missing, corrupt)."""

import hashlib
import shutil
from pathlib import Path

import pytest

from radsweep.encoders import build_image_encoder
from radsweep.errors import WeightsError
from radsweep.weights.catalogue import (
    Catalogue,
    WeightsEntry,
    catalogue_file,
    catalogued_weights,
    load_catalogue,
    save_catalogue,
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_catalogue_lives_in_home_unless_the_environment_says_otherwise(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert catalogue_file() == isolated_home / "weights.yaml"
    monkeypatch.setenv("RADSWEEP_WEIGHTS_FILE", str(tmp_path / "mounted.yaml"))
    assert catalogue_file() == tmp_path / "mounted.yaml"


def test_round_trip_and_relative_paths(tmp_path: Path) -> None:
    file = tmp_path / "weights.yaml"
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "c2l.pth").write_bytes(b"x")
    entry = WeightsEntry(path=Path("w/c2l.pth"), sha256="a" * 64, source="https://example.org/c")
    save_catalogue(Catalogue(image={"c2l": entry}), file)
    assert load_catalogue(file).image["c2l"] == entry
    assert catalogued_weights("image", "c2l", file) == tmp_path / "w" / "c2l.pth"
    assert catalogued_weights("text", "c2l", file) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("image: {c2l: {path: a, sha256: xyz}}", "image.c2l.sha256"),
        ("image: {c2l: {path: a, colour: red}}", "image.c2l.colour"),
        ("video: {}", "video"),
        ("image: [unclosed", "not valid YAML"),
    ],
)
def test_a_malformed_catalogue_names_the_field(tmp_path: Path, text: str, problem: str) -> None:
    file = tmp_path / "weights.yaml"
    file.write_text(text)
    with pytest.raises(WeightsError, match=problem) as raised:
        load_catalogue(file)
    assert raised.value.hint


def test_registry_loads_catalogued_weights(c2l_checkpoint: Path, tmp_path: Path) -> None:
    """No --weights anywhere: the registry takes the catalogue's file, checked by SHA-256."""
    file = catalogue_file()
    entry = WeightsEntry(path=c2l_checkpoint, sha256=_sha(c2l_checkpoint))
    save_catalogue(Catalogue(image={"c2l": entry}), file)
    encoder = build_image_encoder("c2l")
    assert encoder.weights_identity == f"sha256:{_sha(c2l_checkpoint)}"


def test_registry_refuses_a_corrupt_copy(c2l_checkpoint: Path, tmp_path: Path) -> None:
    copy = tmp_path / "c2l.pth"
    shutil.copy(c2l_checkpoint, copy)
    save_catalogue(
        Catalogue(image={"c2l": WeightsEntry(path=copy, sha256=_sha(copy))}), catalogue_file()
    )
    with copy.open("r+b") as handle:  # flip bytes far from the header: still a loadable file
        handle.seek(copy.stat().st_size // 2)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(WeightsError, match="do not match the catalogued SHA-256") as raised:
        build_image_encoder("c2l")
    assert "weights fetch c2l --force" in (raised.value.hint or "")


def test_registry_names_missing_catalogued_weights(tmp_path: Path) -> None:
    entry = WeightsEntry(path=tmp_path / "gone.pth")
    save_catalogue(Catalogue(image={"c2l": entry}), catalogue_file())
    with pytest.raises(WeightsError, match=r"gone\.pth are missing"):
        build_image_encoder("c2l")
    assert build_image_encoder("c2l", tiny=True).weights_identity.startswith("random-init")
