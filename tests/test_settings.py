from pathlib import Path

import pytest

from radsweep.settings import Settings


def test_folders_default_to_subfolders_of_home(isolated_home: Path) -> None:
    settings = Settings()
    assert settings.home == isolated_home
    assert settings.data == isolated_home / "data"
    assert settings.cache == isolated_home / "cache"
    assert settings.results == isolated_home / "results"
    assert settings.wandb == isolated_home / "wandb"
    assert settings.synthetic == isolated_home / "data" / "synthetic"


def test_each_folder_is_overridable_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADSWEEP_CACHE_DIR", str(tmp_path / "fast-disk"))
    settings = Settings()
    assert settings.cache == tmp_path / "fast-disk"
    assert settings.data == settings.home / "data"


def test_arguments_override_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADSWEEP_DATA_DIR", str(tmp_path / "from-env"))
    assert Settings(data_dir=tmp_path / "from-flag").data == tmp_path / "from-flag"


def test_home_expands_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RADSWEEP_HOME", "~/rs")
    assert Settings().data == tmp_path / "rs" / "data"


def test_wandb_environment_keeps_every_wandb_folder_inside_wandb_dir(tmp_path: Path) -> None:
    settings = Settings(wandb_dir=tmp_path / "wb")
    environment = settings.wandb_environment()
    assert set(environment) == {
        "WANDB_DIR",
        "WANDB_DATA_DIR",
        "WANDB_CACHE_DIR",
        "WANDB_CONFIG_DIR",
    }
    assert all(Path(value).is_relative_to(tmp_path / "wb") for value in environment.values())
