"""The front door imports only what it shows: ``radsweep --help``, ``--version``, a group's
help and a mistyped command never load the numerical stack, the figures or the benchmarks.

Checked on the import graph (the modules a fresh process holds after the command), not on the
clock.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import radsweep
from radsweep.tasks.registry import KNOWN_TASKS
from radsweep.tasks.taskfile import TASK_FILE, TaskFile

HEAVY = (
    "scipy",
    "pandas",
    "nibabel",
    "torch",
    "matplotlib",
    "cv2",
    "wandb",
    "wandb_workspaces",
    "radsweep.bench",
)
APP = str(Path(radsweep.__file__).parent.parent)


PROBE = """
import json, sys
from radsweep.cli.main import cli
code = cli(sys.argv[1:])
print("MODULES=" + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported(*args: str) -> set[str]:
    """Every module a fresh process has imported after running ``radsweep ARGS``."""
    env = os.environ | {"PYTHONPATH": APP, "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("data", "--help"),
        ("sweep", "--help"),
        ("no-such-command",),
        ("doctor", "--help"),
        ("data", "tasks"),
        ("data", "tasks", "--json"),
        ("weights",),
        ("weights", "--json"),
    ],
    ids=" ".join,
)
def test_the_front_door_imports_nothing_heavy(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listings read task.json files and the weights catalogue: no tables, no model library."""
    monkeypatch.setenv("RADSWEEP_HOME", str(tmp_path))
    monkeypatch.delenv("RADSWEEP_WEIGHTS_FILE", raising=False)
    monkeypatch.delenv("RADSWEEP_DATA_DIR", raising=False)
    built = tmp_path / "data" / "own-task"
    built.mkdir(parents=True)
    own = KNOWN_TASKS["synth-prognostic"].model_copy(update={"name": "own-task"})
    (built / TASK_FILE).write_text(TaskFile(task=own).model_dump_json())
    modules = imported(*args)
    assert "radsweep.cli.main" in modules  # the graph was read
    loaded = {name for name in modules if name.split(".")[0] in HEAVY or name in HEAVY}
    assert not loaded


def test_a_lazy_group_loads_when_asked_for_its_help() -> None:
    modules = imported("data", "build", "--help")
    assert "radsweep.cli.build" in modules
    assert "radsweep.cli.build" not in imported("data", "--help")
