"""W&B sessions: the offline fallback and the finish timeout.

The fallback tests drive the real wandb client against a port nobody listens on.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import wandb
from wandb.sdk.mailbox.mailbox_handle import ServerResponseError

from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.tracking import session as tracking
from tests.conftest import INIT_TIMEOUT

CONFIG = RunConfig(task="synth-prognostic", backbone="c2l", fraction=0.5, tiny=True)
ONLINE = {"mode": "online", "project": "radsweep", "entity": None, "group": "demo"}
OFFLINE = {
    **ONLINE,
    "mode": "offline",
}  # init timeout, W&B's retry slack, the offline run's own start and finish


@contextmanager
def _opened(config: RunConfig, settings: Settings, **options: Any) -> Iterator[Any]:
    """A run from ``start_run``, finished by ``finish`` as the W&B observer finishes it."""
    run = tracking.start_run(config, settings, **options)
    yield run
    tracking.finish(run)


def warnings(captured: str) -> list[str]:
    return [line for line in captured.splitlines() if line.startswith("radsweep: warning:")]


def offline_run(settings: Settings) -> Path:
    [folder] = (settings.wandb / "wandb").glob("offline-run-*")
    return folder


def logged(folder: Path) -> bytes:
    """The run's transaction log once W&B's service has closed it (finish returns before)."""
    wandb.teardown()
    return next(folder.glob("run-*.wandb")).read_bytes()


@pytest.mark.timeout(60)  # hang guard: the fallback must not wait for ever
def test_an_online_run_falls_back_to_offline_when_the_server_is_unreachable(
    unreachable: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path / "home")
    started = time.monotonic()
    with _opened(
        CONFIG, settings, mode="online", project="radsweep", entity=None, group="demo"
    ) as run:
        opened = time.monotonic() - started
        run.log({"auc/mean": 0.75})
    assert run.offline
    assert opened >= INIT_TIMEOUT  # it waited for the server before falling back
    folder = offline_run(settings)
    assert b"auc/mean" in logged(folder)
    [line] = warnings(capsys.readouterr().err)
    assert (
        f"W&B ({unreachable}) could not start run synth-prognostic-c2l-image-attention-f0.5" in line
    )
    assert line.endswith(f"upload it later: wandb sync {folder}")


@pytest.mark.timeout(30)  # hang guard: the watchdog ends the wait
def test_a_hanging_finish_costs_the_timeout_and_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the hang is staged (a server gone mid-run); the run and our code around it are real."""
    monkeypatch.setenv("RADSWEEP_WANDB_FINISH_TIMEOUT", "1")
    monkeypatch.setattr(tracking, "FINISH_GRACE_SECONDS", 0.5)
    settings = Settings(home=tmp_path / "home")
    release = threading.Event()
    with _opened(
        CONFIG, settings, mode="offline", project="radsweep", entity=None, group="demo"
    ) as run:
        real_finish = run.finish

        def hang(**options: Any) -> None:  # the server went away: W&B's own timeout failed too
            release.wait(60)
            real_finish(**options)

        monkeypatch.setattr(run, "finish", hang)
        run.log({"auc/mean": 0.75})
        started = time.monotonic()
    waited = time.monotonic() - started
    release.set()
    assert waited >= 1.5  # W&B's finish timeout, then the watchdog's grace
    [line] = warnings(capsys.readouterr().err)
    assert "did not finish within 1 s; its results are in the results store" in line
    assert line.endswith(f"wandb sync {offline_run(settings)} uploads it")


def test_a_failing_finish_is_one_warning_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path / "home")
    with _opened(
        CONFIG, settings, mode="offline", project="radsweep", entity=None, group="demo"
    ) as run:
        real_finish = run.finish

        def fail(**options: Any) -> None:
            real_finish(**options)
            raise wandb.errors.CommError("upload refused\nretrying")

        monkeypatch.setattr(run, "finish", fail)
    [line] = warnings(capsys.readouterr().err)
    assert "failed to finish (upload refused)" in line


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf"])
def test_a_bad_timeout_setting_is_a_user_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RADSWEEP_WANDB_FINISH_TIMEOUT", value)
    with pytest.raises(SweepError, match=r"RADSWEEP_WANDB_FINISH_TIMEOUT=.* is not a positive"):
        tracking.check_timeouts()


def _wandb_refusing(monkeypatch: pytest.MonkeyPatch, in_use: int) -> list[str]:
    """W&B whose online init fails and whose service then holds the run's id ``in_use`` times."""
    modes: list[str] = []

    def init(mode: str, **arguments: Any) -> SimpleNamespace:
        modes.append(mode)
        if mode == "online":
            raise wandb.errors.CommError("no answer")
        if modes.count("offline") <= in_use:
            raise ServerResponseError("run ID run1 is in use")
        return SimpleNamespace(name="run1", id="run1", settings=SimpleNamespace(sync_dir="d"))

    monkeypatch.setattr(tracking.wandb, "init", init)
    monkeypatch.setattr(tracking.wandb, "teardown", lambda: None)
    monkeypatch.setattr(tracking.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(tracking, "_warn", lambda line: None)
    return modes


def test_the_offline_fallback_waits_for_wandb_to_release_the_failed_runs_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    modes = _wandb_refusing(monkeypatch, in_use=2)
    assert tracking.init_run("online", id="run1").id == "run1"
    assert modes == ["online", "offline", "offline", "offline"]


def test_the_offline_fallback_gives_up_after_its_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    modes = _wandb_refusing(monkeypatch, in_use=10)
    with pytest.raises(ServerResponseError, match="in use"):
        tracking.init_run("online", id="run1")
    assert modes == ["online"] + ["offline"] * tracking.OFFLINE_INIT_ATTEMPTS
