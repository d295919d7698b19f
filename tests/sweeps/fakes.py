"""A stand-in for ``radsweep.runs.execute``: each call leaves marker files instead of training.

The task name picks the behaviour, so one queue can mix them: ``user-error`` and ``crash`` raise,
``block`` waits until the test creates ``RESULTS/release``, ``together`` waits until two worker
processes have arrived (so both take part), anything else finishes at once.
"""

import hashlib
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings

WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class FakeOutcome:
    key: str
    skipped: bool
    seconds: float
    mean_auc: float | None


def key(config: RunConfig) -> str:
    return hashlib.sha256(config.canonical().encode()).hexdigest()[:16]


def markers(settings: Settings) -> Path:
    return settings.results / "markers"


def finished(settings: Settings) -> Counter[str]:
    """How many times each configuration (by key) ran to the end."""
    return Counter(path.name.split("-")[0] for path in markers(settings).glob("*-done-*"))


def started(settings: Settings) -> list[Path]:
    return sorted(markers(settings).glob("*-started-*"))


def _mark(settings: Settings, config: RunConfig, what: str, **details: object) -> None:
    folder = markers(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{key(config)}-{what}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    (folder / name).write_text(json.dumps(details))


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released this fake run")
        time.sleep(0.02)


def run_tracked(
    config: RunConfig,
    settings: Settings,
    *,
    mode: str = "offline",
    project: str = "radsweep",
    entity: str | None = None,
    group: str | None = None,
    device: str | None = None,
    run_id: str | None = None,
) -> FakeOutcome:
    _mark(settings, config, "started", pid=os.getpid())
    if config.task == "user-error":
        raise SweepError("this fake cannot train that", hint="it is a test")
    if config.task == "crash":
        raise RuntimeError("boom\nsecond line")
    if config.task == "block":
        _wait_for((settings.results / "release").exists)
    if config.task == "together":
        arrived = markers(settings) / f"arrived-{os.getpid()}"
        arrived.touch()
        _wait_for(lambda: len(list(markers(settings).glob("arrived-*"))) >= 2)
    threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    _mark(
        settings,
        config,
        "done",
        mode=mode,
        project=project,
        group=group,
        device=device,
        threads=threads,
    )
    return FakeOutcome(key(config), False, 0.01, 0.5)


def agent_function(
    settings: Settings, spec: str | None, preemption: object, device: str | None = None
) -> Callable[[], None]:
    def train_one() -> None:
        raise AssertionError("no test may reach a W&B agent's function")

    return train_one


def run_local_main(settings: Settings, configs: list[RunConfig]) -> None:
    """A ``sweep local`` session with two workers, as its own process (for signal tests)."""
    from radsweep.sweeps.local import Interrupted, run_local

    try:
        run_local("s", configs, settings, workers=2, runner=run_tracked)
    except Interrupted:
        raise SystemExit(130) from None
