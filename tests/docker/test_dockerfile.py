"""docker/Dockerfile, read with the official Dockerfile parser: what the GPU image promises."""

import re
import tomllib
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths
from packaging.requirements import Requirement
from packaging.version import Version

from radsweep.settings import Settings

from .files import DOCKER, ROOT, SECRET_WORDS, Image

NEWEST_TESTED_TORCH = Version("2.14.1")
TRANSFORMERS_MIN_TORCH = Version("2.6")  # transformers 5 disables PyTorch below this
BASE_TAG = re.compile(r"(?P<torch>\d+\.\d+\.\d+)-cuda(?P<cuda>\d+\.\d+)-cudnn\d+-runtime")
ENTRYPOINT_SCRIPT = "/usr/local/bin/radsweep-entrypoint"
IMAGE_VOLUMES = {"/data", "/cache", "/results", "/wandb", "/hf-cache", "/weights"}


def _torch_requirement() -> Requirement:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = [Requirement(text) for text in pyproject["project"]["dependencies"]]
    return next(requirement for requirement in requirements if requirement.name == "torch")


def test_base_is_an_official_cuda_pytorch_image_pinned_by_exact_tag(image: Image) -> None:
    (base,) = image.all("FROM")
    repository, _, tag = image.expand(base.value[0]).partition(":")
    assert repository == "pytorch/pytorch"
    match = BASE_TAG.fullmatch(tag)
    assert match, f"{tag!r} is not an exact <torch>-cuda<x.y>-cudnn<n>-runtime tag"
    torch = Version(match["torch"])
    assert torch in _torch_requirement().specifier
    assert TRANSFORMERS_MIN_TORCH <= torch <= NEWEST_TESTED_TORCH
    assert Version(match["cuda"]) >= Version("12.0")


def test_runs_as_a_non_root_user_from_before_the_entrypoint(image: Image) -> None:
    user = image.expand(image.all("USER")[-1].value[0])
    uid = user.partition(":")[0]
    assert uid not in {"0", "root"}
    assert image.index("USER") < image.index("ENTRYPOINT")
    creates_user = " ".join(command.value[0] for command in image.all("RUN"))
    assert "useradd" in creates_user and '--uid "${RADSWEEP_UID}"' in creates_user


def test_tini_is_pid_1_and_hands_signals_to_the_entrypoint_script(image: Image) -> None:
    entrypoint = image.all("ENTRYPOINT")[-1]
    assert entrypoint.json, "shell-form ENTRYPOINT runs under /bin/sh -c, which eats SIGTERM"
    assert entrypoint.value == ("/usr/bin/tini", "--", ENTRYPOINT_SCRIPT)
    runs = [command.value[0] for command in image.all("RUN")]
    assert any("apt-get install" in run and " tini" in run for run in runs)
    assert any(f"docker/entrypoint.sh {ENTRYPOINT_SCRIPT}" in run for run in runs)
    assert image.all("CMD")[-1].value == ("sweep", "agent")


def test_installs_radsweep_from_the_copied_source_keeping_the_cuda_torch(image: Image) -> None:
    positions = {command.cmd: i for i, command in enumerate(image.commands)}
    (install_at,) = [i for i, c in enumerate(image.commands) if "pip install" in c.value[0]]
    install = image.commands[install_at].value[0]
    assert re.search(r"pip install .*--constraint \S+ \.(\s|$)", install)
    assert "torch.backends.cuda.is_built()" in install and "radsweep --version" in install
    assert image.all("COPY")[0].value == (".", "/opt/radsweep/")
    assert positions["COPY"] < install_at
    assert image.all("WORKDIR")[-1].value == ("/opt/radsweep",), "sweeps/X.yaml resolves here"
    assert "mkdir -p sweeps" in install


def test_the_build_context_lets_in_only_what_the_build_reads(tmp_path: Path) -> None:
    """Docker's own .dockerignore rules (docker-py implements them) over a checkout with clutter."""
    needed = ["pyproject.toml", "README.md", "app/radsweep/__init__.py", "sweeps/demo.yaml"]
    needed.append("docker/entrypoint.sh")
    clutter = [".env", "docker/.env", "docker/.env.local", ".git/HEAD", "tests/docker/test_x.py"]
    clutter += ["app/radsweep/__pycache__/x.cpython-311.pyc", "app/radsweep.egg-info/PKG-INFO"]
    clutter += ["wandb/offline-run-1/run-1.wandb", "app/radsweep/wandb/debug.log"]
    clutter += ["data/synthetic/0001.png", "cache/features.npy", ".pytest_cache/v/x"]
    for name in needed + clutter:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sent = {path for path in exclude_paths(str(tmp_path), patterns) if (tmp_path / path).is_file()}
    assert sent == set(needed)


def test_every_writable_folder_is_a_volume_owned_by_the_user(image: Image) -> None:
    assert image.volumes == IMAGE_VOLUMES
    env = image.env
    folders = {env[f"RADSWEEP_{name}_DIR"] for name in ("DATA", "CACHE", "RESULTS", "WANDB")}
    catalogue = str(Path(env["RADSWEEP_WEIGHTS_FILE"]).parent)
    assert folders | {env["HF_HOME"], catalogue} == IMAGE_VOLUMES
    prepare = image.commands[image.index("VOLUME") - 1]
    assert prepare.cmd == "RUN", "volumes must be created and chowned just before VOLUME"
    for volume in IMAGE_VOLUMES:
        assert volume in prepare.value[0].split("chown", 1)[1]


def test_wandb_variables_match_what_radsweep_derives(
    image: Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = image.env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert {name: env[name] for name in settings.wandb_environment()} == (
        settings.wandb_environment()
    )
    assert [settings.data, settings.cache, settings.results, settings.wandb] == [
        Path("/data"),
        Path("/cache"),
        Path("/results"),
        Path("/wandb"),
    ]


def test_no_secret_is_baked_into_the_image(image: Image) -> None:
    declared = list(image.args) + list(image.env)
    assert not [name for name in declared if any(word in name.upper() for word in SECRET_WORDS)]
    text = (DOCKER / "Dockerfile").read_text()
    assert not re.search(r"\b[0-9a-f]{40}\b", text), "looks like a W&B API key"
    assert not re.search(r"\bhf_[A-Za-z0-9]{20,}", text), "looks like a Hugging Face token"
    assert "login" not in " ".join(command.value[0] for command in image.all("RUN"))
