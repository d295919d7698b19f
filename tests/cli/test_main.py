import errno
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from radsweep import __version__
from radsweep.cli.boundary import describe
from radsweep.cli.main import cli
from radsweep.errors import RadsweepError

GROUPS = (
    "data",
    "features",
    "weights",
    "train",
    "sweep",
    "results",
    "report",
    "predict",
    "dashboard",
    "sync",
    "bench",
    "demo",
    "doctor",
)


def test_help_lists_every_command_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--help"]) == 0
    output = capsys.readouterr().out
    for group in GROUPS:
        assert f"│ {group} " in output
    assert "When do radiology reports help" in output


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"radsweep {__version__}"


def test_user_errors_are_one_line_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["data", "splits", "no-such-task"]) == 2
    captured = capsys.readouterr()
    error = captured.err.strip()
    assert error.startswith("radsweep: error: unknown task 'no-such-task'")
    assert "\n" not in error and "Traceback" not in captured.err


def test_invalid_option_values_are_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["data", "synth", "--samples", "3"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("radsweep: error: invalid samples: Input should be greater than")
    assert "\n" not in error


def test_debug_shows_the_traceback() -> None:
    with pytest.raises(RadsweepError, match="unknown task"):
        cli(["--debug", "data", "splits", "no-such-task"])


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["data", "splits"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_global_folder_flags_override_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["--data-dir", str(tmp_path / "elsewhere"), "data", "tasks"]) == 0
    assert str(tmp_path / "elsewhere") in capsys.readouterr().out.replace("\n", "")


def test_the_installed_console_script_reports_errors_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("radsweep")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "radsweep"]
    result = subprocess.run(
        [*command, "--home", str(tmp_path), "data", "validate", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_bug_in_radsweep_exits_1_with_where_to_report_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object) -> None:
        raise TypeError("unsupported operand")

    monkeypatch.setattr("radsweep.tasks.registry.all_tasks", broken)
    assert cli(["data", "tasks"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("radsweep: error: internal error: TypeError: unsupported operand")
    assert "bug in radsweep" in error and "--debug" in error
    assert error.count("\n") == 1 and "Traceback" not in error
    with pytest.raises(TypeError):
        cli(["--debug", "data", "tasks"])


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/data/x.npy"), 2, "free some space"),
        (PermissionError(errno.EACCES, "Permission denied", "/home/r"), 2, "/home/r"),
        (sqlite3.DatabaseError("file is not a database"), 2, "damaged"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 2, "not UTF-8"),
        (MemoryError(), 2, "out of memory"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (ValueError("shape mismatch"), 1, "bug in radsweep"),
    ],
)
def test_every_failure_maps_to_one_line_and_a_code(
    error: BaseException, code: int, words: str
) -> None:
    failure = describe(error)
    assert failure.code == code and words in failure.message and "\n" not in failure.message
