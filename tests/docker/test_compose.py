"""docker/compose.yaml against the compose-spec schema and against what docs/docker.md promises."""

import copy
import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

import pytest
from jsonschema import Draft7Validator

from .files import DOCKER, ROOT, SECRET_WORDS, Image

# The compose-spec schema as Docker Compose v2.40.3 embeds it: see NOTICE beside it.
SCHEMA = json.loads((ROOT / "tests" / "docker" / "compose_spec.json").read_text())
SERVICES = {"agent", "local", "sync", "report"}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?P<operator>:?[-?+])?(?P<default>[^}]*)\}")
DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms|us)")
SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}


def _interpolate(text: str, environment: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME-default}`` and ``${NAME:-default}`` (the forms used here)."""

    def value(match: re.Match[str]) -> str:
        name, operator, default = match["name"], match["operator"], match["default"]
        current = environment.get(name)
        if operator == ":-":
            return current or default
        if operator == "-":
            return default if current is None else current
        assert operator is None, f"${{{name}{operator}...}} is not expected in compose.yaml"
        return current or ""

    return VARIABLE.sub(value, text)


def _command(service: Mapping[str, Any], environment: Mapping[str, str] | None = None) -> list[str]:
    """The argument list compose hands the entrypoint: a string command is split like a shell."""
    command = service["command"]
    if isinstance(command, str):
        return shlex.split(_interpolate(command, environment or {}))
    return [_interpolate(part, environment or {}) for part in command]


def _seconds(duration: str) -> float:
    parts = DURATION.findall(duration)
    assert "".join(f"{number}{unit}" for number, unit in parts) == duration, duration
    return sum(float(number) * SECONDS[unit] for number, unit in parts)


def _readme_section() -> str:
    """The Docker guide (docs/docker.md): what the compose file must match."""
    return (ROOT / "docs" / "docker.md").read_text()


def test_compose_file_is_valid_against_the_compose_spec(compose: dict[str, Any]) -> None:
    Draft7Validator.check_schema(SCHEMA)
    errors = [error.message for error in Draft7Validator(SCHEMA).iter_errors(compose)]
    assert errors == []


def test_the_schema_rejects_a_misspelt_gpu_reservation(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    device = broken["services"]["agent"]["deploy"]["resources"]["reservations"]["devices"][0]
    device["gpu_count"] = 1
    assert any("gpu_count" in e.message for e in Draft7Validator(SCHEMA).iter_errors(broken))


def test_services_are_the_four_the_readme_describes(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES
    documented = set(re.findall(r"^\| `(\w+)` \| `(?:radsweep|wandb) ", _readme_section(), re.M))
    assert documented == SERVICES


def test_one_image_built_from_the_dockerfile_runs_every_service(compose: dict[str, Any]) -> None:
    build = compose["services"]["agent"]["build"]
    assert (DOCKER / build["context"]).resolve() == ROOT
    assert (DOCKER / build["context"] / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"
    images = {service["image"] for service in compose["services"].values()}
    assert images == {"radsweep:${RADSWEEP_IMAGE_TAG:-dev}"}
    for name, service in compose["services"].items():
        if name != "agent":
            assert "build" not in service and service["pull_policy"] == "never", name


def test_every_service_mounts_every_volume_of_the_image(
    compose: dict[str, Any], image: Image
) -> None:
    readme_volumes = dict(re.findall(r"^\| `([\w-]+)` \| `(/[\w-]+)` \|", _readme_section(), re.M))
    assert set(compose["volumes"]) == set(readme_volumes)
    assert set(readme_volumes.values()) == image.volumes
    for name, service in compose["services"].items():
        mounts = dict(volume.split(":", 1)[::-1] for volume in service["volumes"])
        assert mounts == {path: volume for volume, path in readme_volumes.items()}, name


def test_agent_reserves_an_nvidia_gpu_chosen_by_a_variable(compose: dict[str, Any]) -> None:
    (device,) = compose["services"]["agent"]["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    (device_id,) = device["device_ids"]
    assert _interpolate(device_id, {}) == "0"
    assert _interpolate(device_id, {"AGENT_GPU": "3"}) == "3"
    assert "count" not in device, "count and device_ids are exclusive"


def test_services_scale_without_clashing(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert not {"container_name", "ports", "hostname"} & set(service), name


def test_only_w_and_b_services_read_the_env_file_and_nothing_secret_is_inline(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        uploads = name in {"agent", "sync"}
        assert ("env_file" in service) == uploads, name
        if uploads:
            assert service["env_file"] == [{"path": ".env", "required": False}]
        assert service["environment"]["WANDB_MODE"] == ("online" if uploads else "offline"), name
        inline = [key for key in service["environment"] if any(w in key for w in SECRET_WORDS)]
        assert inline == [], name
    text = (DOCKER / "compose.yaml").read_text()
    assert not re.search(r"\b[0-9a-f]{40}\b", text), "looks like a W&B API key"


def test_env_example_documents_every_variable_and_holds_no_secret() -> None:
    assignments = re.findall(
        r"^#? ?([A-Z_]+)=(.*)$", (DOCKER / ".env.example").read_text(), flags=re.M
    )
    documented = {name for name, _ in assignments}
    used = {match["name"] for match in VARIABLE.finditer((DOCKER / "compose.yaml").read_text())}
    assert used <= documented
    assert "WANDB_API_KEY" in documented
    for name, value in assignments:
        if any(word in name for word in SECRET_WORDS):
            assert value == "", f"{name} must be left empty in the example"
    assert "docker/.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_agent_runs_the_sweep_agent_and_has_time_to_mark_a_preempted_run(
    compose: dict[str, Any],
) -> None:
    agent = compose["services"]["agent"]
    assert _command(agent, {"SWEEP_ID": "team/proj/abc123"}) == [
        "sweep",
        "agent",
        "team/proj/abc123",
    ]
    assert _command(agent) == ["sweep", "agent"], "unset: radsweep names the missing argument"
    assert agent.get("stop_signal", "SIGTERM") == "SIGTERM"
    assert _seconds(agent["stop_grace_period"]) >= 60


def test_one_init_per_container_the_images_tini(compose: dict[str, Any], image: Image) -> None:
    assert image.all("ENTRYPOINT")[-1].value[0] == "/usr/bin/tini"
    for name, service in compose["services"].items():
        assert not service.get("init"), f"{name}: a second init behind the image's tini"
        assert service.get("entrypoint", ["/usr/bin/tini"])[0] == "/usr/bin/tini", name


def test_local_runs_an_offline_sweep_from_a_spec(compose: dict[str, Any]) -> None:
    local = compose["services"]["local"]
    assert _command(local) == ["sweep", "local", "sweeps/demo.yaml", "--workers", "2"]
    assert _command(local, {"SWEEP_SPEC": "sweeps/x.yaml", "LOCAL_WORKERS": "4"})[2:] == [
        "sweeps/x.yaml",
        "--workers",
        "4",
    ]
    assert local["profiles"] == ["local"] and "deploy" not in local


@pytest.mark.parametrize("name", ["sync", "report"])
def test_one_shot_services_start_only_when_named(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["profiles"] == [name] and service["restart"] == "no"


def test_report_and_sync_commands(compose: dict[str, Any]) -> None:
    report = _command(compose["services"]["report"])
    assert report[:2] == ["report", "--out"] and report[2].startswith("/results/")
    assert compose["services"]["sync"]["entrypoint"][-1] == "wandb"
    assert _command(compose["services"]["sync"]) == ["sync", "--yes"]


def test_readme_compose_commands_name_real_services(compose: dict[str, Any]) -> None:
    from radsweep.cli.main import app

    radsweep_commands = {group.name for group in app.registered_groups} | {
        command.name or command.callback.__name__ for command in app.registered_commands
    }
    blocks = re.findall(r"```bash\n(.*?)```", _readme_section(), flags=re.S)
    lines = [line.split("#", 1)[0] for block in blocks for line in block.splitlines()]
    lines = [line for line in lines if "docker compose" in line]
    assert len(lines) >= 6
    for line in lines:
        words = shlex.split(line.split("docker compose", 1)[1])
        assert words[:2] == ["-f", "docker/compose.yaml"], line
        verb, rest = words[2], words[3:]
        if verb == "run":
            at = next(i for i, word in enumerate(rest) if not word.startswith("-"))
            assert set(rest[:at]) <= {"--rm", "-d"}, line
            target, arguments = rest[at], rest[at + 1 :]
            assert target in compose["services"], line
            assert not arguments or arguments[0] in radsweep_commands, line
        elif verb == "up":
            scaled = {word.split("=")[0] for word in rest if "=" in word}
            assert scaled and scaled <= set(compose["services"]), line
        else:
            assert verb == "build", line
