import json
import shlex
from pathlib import Path

import pytest

import radsweep.encoders
from radsweep.cli.main import cli
from radsweep.settings import Settings
from tests.features.conftest import write_task
from tests.features.doubles import TinyImageEncoder, TinyTextEncoder

SMALL = ["--batch-size", "4", "--workers", "0", "--shard-size", "8"]


@pytest.fixture(autouse=True)
def doubles(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """The registry's builders, replaced by test doubles (the registry lives in another module)."""
    calls: list[dict[str, object]] = []

    def build_image_encoder(name: str, weights: Path | None = None, **options: object):  # type: ignore[no-untyped-def]
        calls.append({"name": name, "weights": weights, **options})
        return TinyImageEncoder(name=name)

    def build_text_encoder(name: str, weights: Path | None = None, **options: object):  # type: ignore[no-untyped-def]
        calls.append({"name": name, "weights": weights, **options})
        return TinyTextEncoder()

    monkeypatch.setattr(radsweep.encoders, "build_image_encoder", build_image_encoder, False)
    monkeypatch.setattr(radsweep.encoders, "build_text_encoder", build_text_encoder, False)
    return calls


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    return write_task(tmp_path / "task", samples=20).directory


def _extract(task_dir: Path, *extra: str) -> int:
    return cli(["features", "extract", "--task", str(task_dir), *SMALL, *extra])


def _flip_last_token_byte() -> None:
    [tokens] = (Settings().cache / "features").glob("tiny-conv-image-*/tokens.npy")
    data = bytearray(tokens.read_bytes())
    data[-5] ^= 0xFF
    tokens.write_bytes(bytes(data))


def test_extract_then_list_then_verify(
    task_dir: Path, doubles: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    code = _extract(task_dir, "--backbone", "tiny-conv", "--views", "1", "--text-encoder", "tt")
    assert code == 0
    output = capsys.readouterr().out
    assert "image cache tiny-conv-image-" in output and "text cache tiny-text-text-" in output
    assert "computed 3 of 3 shard(s)" in output
    assert doubles[0] == {
        "name": "tiny-conv",
        "weights": None,
        "tiny": False,
        "variant": None,
        "device": "cpu",
        "catalogue": Settings().home / "weights.yaml",
    }
    assert cli(["features", "ls"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("complete") == 2 and "tiny-features" in listing
    image_row = next(line for line in listing.splitlines() if "tiny-conv-image-" in line)
    assert "│     2 │" in image_row  # centre + one augmented view
    assert cli(["features", "verify"]) == 0
    assert capsys.readouterr().out.count("ok ") == 2


def test_corruption_is_reported_and_repaired_through_the_cli(
    task_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _extract(task_dir, "--backbone", "tiny-conv") == 0
    [spec] = (Settings().cache / "features").glob("tiny-conv-image-*/spec.json")
    command = json.loads(spec.read_text())["command"]
    assert command == shlex.join(
        [
            "radsweep",
            "features",
            "extract",
            "--task",
            str(task_dir),
            "--backbone",
            "tiny-conv",
            "--batch-size",
            "4",
            "--workers",
            "0",
            "--shard-size",
            "8",
        ]
    )
    key = spec.parent.name
    _flip_last_token_byte()
    capsys.readouterr()
    assert cli(["features", "verify"]) == 2
    captured = capsys.readouterr()
    assert "samples 16-19 (shard 2) fail their checksum" in captured.out
    error = captured.err.strip()
    assert "\n" not in error and f"radsweep features verify {key} --repair" in error

    assert cli(["features", "verify", key, "--repair"]) == 0
    assert "kept 2 shard(s), dropped 1" in capsys.readouterr().out
    assert cli(["features", "ls"]) == 0
    assert "2/3 shards" in capsys.readouterr().out
    assert cli(shlex.split(command)[1:]) == 0
    assert "computed 1 of 3 shard(s)" in capsys.readouterr().out
    assert cli(["features", "verify", key]) == 0


def test_bad_images_stop_unless_skipped(task_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (task_dir / "images" / "s004.png").write_bytes(b"")
    assert _extract(task_dir, "--backbone", "tiny-conv") == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("radsweep: error: 1 image(s) of task tiny-features cannot be used")
    assert "--skip-bad" in error and "\n" not in error
    assert _extract(task_dir, "--backbone", "tiny-conv", "--skip-bad") == 0
    assert "1 bad image(s) excluded" in capsys.readouterr().err
    assert cli(["features", "ls"]) == 0
    assert "complete, 1 excluded" in capsys.readouterr().out


def test_extract_needs_an_encoder(task_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _extract(task_dir) == 2
    assert "nothing to extract" in capsys.readouterr().err


def test_ls_and_verify_with_no_caches(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["features", "ls"]) == 0
    assert "no feature caches" in capsys.readouterr().out
    assert cli(["features", "verify", "no-such-key"]) == 2
    assert "no feature cache no-such-key" in capsys.readouterr().err


def test_ls_lists_every_cache_beside_one_with_a_damaged_spec(
    task_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _extract(task_dir, "--backbone", "tiny-conv", "--text-encoder", "tt") == 0
    [image] = (Settings().cache / "features").glob("tiny-conv-image-*")
    (image / "spec.json").write_text("{")
    capsys.readouterr()
    assert cli(["features", "ls"]) == 0
    listing = capsys.readouterr().out
    assert "damaged spec.json" in listing and "complete" in listing


def test_random_weights_are_accepted_as_in_train(
    task_dir: Path, doubles: list[dict[str, object]]
) -> None:
    assert _extract(task_dir, "--backbone", "tiny-conv", "--weights", "random") == 0
    assert doubles[0]["weights"] == "random"


def test_verify_json_names_the_damage_and_the_repair(
    task_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _extract(task_dir, "--backbone", "tiny-conv", "--text-encoder", "tt") == 0
    _flip_last_token_byte()
    capsys.readouterr()
    assert cli(["features", "verify", "--json"]) == 2
    captured = capsys.readouterr()
    rows = {row["key"].split("-")[1]: row for row in json.loads(captured.out)}
    assert set(rows) == {"conv", "text"}
    damaged, sound = rows["conv"], rows["text"]
    assert (damaged["ok"], damaged["complete"], damaged["shards"]) == (False, True, 3)
    assert damaged["bad_shards"] == [2] and damaged["repair"] is None
    assert any("fail their checksum" in problem for problem in damaged["problems"])
    assert sound["ok"] and sound["bad_shards"] == [] and sound["problems"] == []
    assert "1 feature cache(s) failed verification" in captured.err

    assert cli(["features", "verify", damaged["key"], "--repair", "--json"]) == 0
    [repaired] = json.loads(capsys.readouterr().out)
    assert repaired["repair"]["kept"] == 2 and repaired["repair"]["dropped"] == 1
    assert "radsweep features extract" in repaired["repair"]["then"]


def test_ls_json_lists_a_damaged_spec_with_empty_columns(
    task_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _extract(task_dir, "--backbone", "tiny-conv", "--views", "1", "--pool", "2") == 0
    assert _extract(task_dir, "--text-encoder", "tt") == 0
    [text] = (Settings().cache / "features").glob("tiny-text-*")
    (text / "spec.json").write_text("{")
    capsys.readouterr()
    assert cli(["features", "ls", "--json"]) == 0
    image, damaged = sorted(json.loads(capsys.readouterr().out), key=lambda row: row["key"])
    assert image["kind"] == "image" and image["views"] == 2 and image["pool"] == 2
    assert image["state"] == "complete" and image["complete"] and image["bytes"] > 0
    assert image["samples"] == 20 and image["task"] == "tiny-features"
    assert damaged["kind"] is None and damaged["state"].startswith("damaged spec.json")


def test_extract_offers_the_cache_fields_of_runconfig_as_train_does(
    task_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One declaration per option: extract's encoder options are RunConfig's fields (their help
    and constraints), so a bad value is named as train names it."""
    import typer

    from radsweep.cli.features import EXTRACT_FIELDS
    from radsweep.cli.main import app
    from radsweep.cli.options import FIELD_HELP

    command = typer.main.get_command(app).commands["features"].commands["extract"]  # type: ignore[attr-defined]
    helps = {param.name: getattr(param, "help", None) for param in command.params}
    assert {name: helps[name] for name in EXTRACT_FIELDS} == {
        name: FIELD_HELP[name] for name in EXTRACT_FIELDS
    }
    assert _extract(task_dir, "--backbone", "tiny-vit", "--views", "65") == 2
    assert "invalid views: Input should be less than or equal to 64" in capsys.readouterr().err
