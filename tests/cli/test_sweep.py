import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from radsweep.cli.main import cli
from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.remote import agent_commands
from radsweep.tasks.synthetic import SynthBenchmark
from tests.sweeps import fakes
from tests.sweeps.wandb_server import SweepServer

ROOT = Path(__file__).parents[2]
SPEC = """\
method: grid
metric: {name: auc/final/mean, goal: maximize}
parameters:
  task: {value: synth-age}
  backbone: {values: [c2l, rad-dino]}
  method: {values: [image, distill]}
  tau: {values: [0.5, 1.0]}
  fraction: {values: [0.1, 0.5]}
"""
CONFIGS = 2 * 2 * (1 + 2)  # image-only runs ignore τ


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture
def data(small_benchmark: SynthBenchmark, monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic tasks' manifests, which sweep local checks for before queuing."""
    monkeypatch.setenv("RADSWEEP_DATA_DIR", str(small_benchmark.directory.parent))


@pytest.fixture
def executor(monkeypatch: pytest.MonkeyPatch) -> list[RunConfig]:
    """A fake ``radsweep.sweeps.agents`` whose runs fail at fraction 0.5 with distillation."""
    calls: list[RunConfig] = []

    def run_tracked(config: RunConfig, settings: Settings, **options: object) -> object:
        calls.append(config)
        if config.fraction == 0.5 and config.method.distils:
            raise SweepError(f"no features for {config.backbone}")
        return fakes.run_tracked(config, settings, **options)  # type: ignore[arg-type]

    module = types.ModuleType("radsweep.sweeps.agents")
    module.run_tracked = run_tracked  # type: ignore[attr-defined]
    module.agent_function = fakes.agent_function  # type: ignore[attr-defined]
    module.run_tracked_students = None  # type: ignore[attr-defined]  # every job alone
    monkeypatch.setitem(sys.modules, "radsweep.sweeps.agents", module)
    return calls


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    error = capsys.readouterr().err.strip()
    assert error.startswith("radsweep: error: ") and "\n" not in error, error
    return error


@pytest.mark.usefixtures("data")
def test_local_runs_the_spec_and_status_explains_failures(
    spec: Path, executor: list[RunConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["sweep", "local", str(spec)]) == 2  # some runs failed: the user's to fix
    captured = capsys.readouterr()
    assert f"mini: {CONFIGS} configurations" in captured.out
    error = " ".join(captured.err.split())
    assert f"4 of {CONFIGS} runs of mini failed — `radsweep sweep status" in error
    assert "bug in radsweep" not in error
    assert len(executor) == CONFIGS
    assert all(call.tau is None for call in executor if not call.method.distils)
    assert cli(["sweep", "status", "mini"]) == 0
    output = capsys.readouterr().out
    row = next(line for line in output.splitlines() if "│ mini" in line)
    assert [cell.strip() for cell in row.split("│")[2:7]] == ["0", "0", "8", "4", "12"]
    assert output.count("failed mini (synth-age") == 4
    assert "no features for c2l" in output


@pytest.mark.usefixtures("data")
def test_local_resumes_without_rerunning_finished_configurations(
    spec: Path, executor: list[RunConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    cli(["sweep", "local", str(spec)])
    cli(["sweep", "local", str(spec)])
    assert len(executor) == CONFIGS  # finished and failed jobs are not run again
    assert cli(["sweep", "local", str(spec), "--retry-failed"]) == 2
    assert len(executor) == CONFIGS + 4
    assert "runs of mini failed" in capsys.readouterr().err


@pytest.mark.usefixtures("data")
def test_local_runs_log_online_on_request(spec: Path, executor: list[RunConfig]) -> None:
    cli(["sweep", "local", str(spec), "--online"])
    modes = {
        json.loads(path.read_text())["mode"] for path in fakes.markers(Settings()).glob("*-done-*")
    }
    assert modes == {"online"}  # a run whose server does not answer goes offline by itself


@pytest.mark.usefixtures("data")
def test_a_bad_wandb_timeout_is_one_error_before_any_run(
    spec: Path,
    executor: list[RunConfig],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WANDB_INIT_TIMEOUT", "soon")
    assert cli(["sweep", "local", str(spec)]) == 2
    assert "WANDB_INIT_TIMEOUT='soon' is not a positive number of seconds" in one_error_line(capsys)
    assert not executor


def test_local_needs_the_tasks_manifests_first(
    spec: Path, executor: list[RunConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["sweep", "local", str(spec)]) == 2
    assert "task synth-age has no manifest" in one_error_line(capsys)
    assert not executor


def test_status_without_any_local_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "status"]) == 0
    assert "no local sweeps yet" in capsys.readouterr().out


@pytest.mark.usefixtures("data")
def test_status_of_an_unknown_spec_is_a_user_error(
    spec: Path, executor: list[RunConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    cli(["sweep", "local", str(spec)])
    capsys.readouterr()
    assert cli(["sweep", "status", "sweeps/nope.yaml"]) == 2
    assert "no local sweep named nope" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("method: grid\nparameters: [", "invalid YAML at line 2"),
        (SPEC + "  colour: {value: red}\n", "unknown parameter 'colour'"),
        (SPEC.replace("[0.1, 0.5]", "[0.1, 1.5]"), "parameter fraction = 1.5"),
    ],
)
def test_bad_specs_are_one_line_errors(
    tmp_path: Path,
    executor: list[RunConfig],
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    for command in ("local", "register"):
        assert cli(["sweep", command, str(path)]) == 2
        error = one_error_line(capsys)
        assert message in error and str(path) in error
    assert not executor
    assert not (Settings().results / "queue.sqlite").exists()


def test_register_prints_the_sweep_and_the_agent_commands(
    unreachable: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """W&B's own ``wandb.sweep`` registers the spec with a stand-in for the server's API."""
    server = SweepServer(ROOT / "sweeps" / "fig2-age.yaml", {}, Path(os.devnull))
    for owner, name, stand_in in server.patches():
        monkeypatch.setattr(owner, name, stand_in)
    args = ["sweep", "register", "sweeps/fig2-age.yaml", "--entity", "me", "--project", "p"]
    assert cli(args) == 0
    output = capsys.readouterr().out
    assert "registered fig2-age: sweep me/p/sweep1 (28 W&B runs, 28 distinct" in output
    for command in agent_commands("me/p/sweep1"):
        assert command in output
    assert server.config["name"] == "fig2-age" and "--spec" in server.config["command"]


def test_register_and_agent_offline_point_to_the_local_runner(
    spec: Path, executor: list[RunConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["sweep", "register", str(spec)]) == 2  # conftest: WANDB_MODE=offline
    error = one_error_line(capsys)
    assert "needs a W&B server" in error and "WANDB_MODE=offline" in error
    assert f"radsweep sweep local {spec}" in error
    assert cli(["sweep", "agent", "me/radsweep/abc123", "--count", "1"]) == 2
    assert "a W&B sweep agent needs a W&B server" in one_error_line(capsys)


def test_run_config_refuses_parameters_that_are_not_a_json_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Training through run-config is tested with a stock W&B agent (tests/sweeps)."""
    assert cli(["sweep", "run-config", "{not json"]) == 2
    assert "run-config takes the run's parameters as JSON" in one_error_line(capsys)
    assert cli(["sweep", "run-config", "[1, 2]"]) == 2
    assert "a JSON object of RunConfig fields" in one_error_line(capsys)


def test_sweep_help_lists_its_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "--help"]) == 0
    output = capsys.readouterr().out
    for command in ("local", "status", "register", "agent"):
        assert f"│ {command} " in output
    assert "run-config" not in output  # hidden: only wandb agent calls it


@pytest.mark.slow
def test_an_unreachable_wandb_server_is_a_bounded_one_line_error(tmp_path: Path) -> None:
    """The real wandb client, no key and then a key for a server nobody answers on."""
    netrc = tmp_path / "netrc"
    netrc.write_text("")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "app"),
        "WANDB_MODE": "online",
        "WANDB_BASE_URL": "http://127.0.0.1:9",
        "NETRC": str(netrc),
    }
    env.pop("WANDB_API_KEY", None)
    script = (
        "import os, sys\n"
        "from radsweep.cli.main import cli\n"
        f"spec = {str(ROOT / 'sweeps' / 'demo.yaml')!r}\n"
        "first = cli(['sweep', 'register', spec])\n"
        "os.environ['WANDB_API_KEY'] = 'a' * 40\n"
        "second = cli(['sweep', 'register', spec, '--timeout', '3'])\n"
        "sys.exit(10 * first + second)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 22, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("radsweep: error")]
    assert len(lines) == 2, result.stderr
    assert "no W&B API key is configured" in lines[0]
    assert "W&B (http://127.0.0.1:9)" in lines[1] and "radsweep sweep local" in lines[1]


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize("variable", ["RADSWEEP_WANDB_DIR", "WANDB_CONFIG_DIR"])
def test_a_wandb_folder_that_cannot_be_created_is_one_line_before_any_run(
    variable: str,
    spec: Path,
    executor: list[RunConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(variable, str(blocker / "wandb"))
    assert cli(["sweep", "local", str(spec)]) == 2
    error = one_error_line(capsys)
    assert f"W&B cannot write its files to {blocker / 'wandb'}" in error
    assert "Traceback" not in error and "writable folder" in error
    assert not executor
    assert not (Settings().results / "queue.sqlite").exists()  # nothing queued


def test_register_missing_registers_only_the_configurations_without_a_run(
    unreachable: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A grid over the spec's points the store lacks, through W&B's own ``wandb.sweep``."""
    from radsweep.results.store import ResultsStore, default_store_path
    from radsweep.sweeps.spec import POINT, load_and_expand, task_specs
    from radsweep.training import FitResult
    from tests.results.sweep import curves, final_auc

    def fit_result(config: RunConfig) -> FitResult:
        train = config.train_config(task_specs(Settings().data)[config.task])
        sizes = (100,) * len(config.seeds)
        return FitResult(train, config.seeds, sizes, sizes, curves(final_auc(config)), None)

    server = SweepServer(ROOT / "sweeps" / "fig2-age.yaml", {}, Path(os.devnull))
    for owner, name, stand_in in server.patches():
        monkeypatch.setattr(owner, name, stand_in)
    _, configs = load_and_expand("fig2-age", Settings().data)
    store = ResultsStore(default_store_path(Settings()))
    for index, config in enumerate(configs[:25]):  # 3 of 28 crashed, say
        store.record(f"key{index}", config, fit_result(config), ["cache"], {})
    args = ["sweep", "register", "fig2-age", "--missing", "--entity", "me", "--project", "p"]
    assert cli(args) == 0
    output = capsys.readouterr().out
    assert "3 of 28 configurations of fig2-age have no run in" in output
    assert "sweep me/p/sweep1 (3 W&B runs, 3 distinct configurations)" in output
    registered = server.config
    assert registered["method"] == "grid" and list(registered["parameters"]) == [POINT]
    points = registered["parameters"][POINT]["values"]
    assert [RunConfig.model_validate(point) for point in points] == configs[25:]
    assert registered["command"][-1] == "${args_json}" and "fig2-age" in registered["command"]

    for index, config in enumerate(configs[25:]):
        store.record(f"again{index}", config, fit_result(config), ["cache"], {})
    server.config = {}
    assert cli(args) == 0
    assert capsys.readouterr().out.strip().startswith("nothing to register:")
    assert server.config == {}  # nothing reached the server
