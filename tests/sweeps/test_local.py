import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from radsweep.settings import Settings
from radsweep.sweeps.config import RunConfig
from radsweep.sweeps.local import WorkerOptions, _worker_process, run_local, work
from radsweep.sweeps.queue import JobQueue, JobState, queue_path
from tests.sweeps import fakes


def configs(count: int, task: str = "synth-age") -> list[RunConfig]:
    return [
        RunConfig(task=task, backbone="c2l", fraction=0.1, views=1, view_seed=index)
        for index in range(count)
    ]


def options(settings: Settings, spec: str = "s", lease: float = 120.0) -> WorkerOptions:
    return WorkerOptions(
        queue_path(settings.results), spec, settings, lease=lease, runner=fakes.run_tracked
    )


def enqueue(settings: Settings, jobs: list[RunConfig], spec: str = "s") -> None:
    with JobQueue(queue_path(settings.results)) as queue:
        queue.enqueue(spec, jobs)


def counts(settings: Settings, spec: str = "s") -> dict[JobState, int]:
    with JobQueue(queue_path(settings.results)) as queue:
        return queue.spec_counts(spec)


def wait_until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_one_worker_in_process_runs_every_job_offline(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    jobs = configs(3)
    seen: list[dict[JobState, int]] = []
    final = run_local("s", jobs, settings, runner=fakes.run_tracked, on_progress=seen.append)
    assert final[JobState.DONE] == 3 and sum(final.values()) == 3
    assert seen[-1] == final and seen[0][JobState.DONE] < 3
    assert set(fakes.finished(settings).values()) == {1}
    details = [path.read_text() for path in fakes.markers(settings).glob("*-done-*")]
    assert all('"mode": "offline"' in text and '"group": "s"' in text for text in details)
    # a second session finds everything done and runs nothing
    run_local("s", jobs, settings, runner=fakes.run_tracked)
    assert len(fakes.started(settings)) == 3


def test_failures_are_recorded_and_retried_on_request(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    jobs = [*configs(1, "user-error"), *configs(1, "crash"), *configs(1)]
    final = run_local("s", jobs, settings, runner=fakes.run_tracked)
    assert final[JobState.FAILED] == 2 and final[JobState.DONE] == 1
    with JobQueue(queue_path(settings.results)) as queue:
        errors = sorted(failure.error for failure in queue.failures("s"))
    assert errors == [
        "RuntimeError: boom second line",
        "this fake cannot train that — it is a test",
    ]
    run_local("s", jobs, settings, runner=fakes.run_tracked)
    assert len(fakes.started(settings)) == 3  # failed jobs stay failed ...
    run_local("s", jobs, settings, runner=fakes.run_tracked, retry_failed=True)
    assert len(fakes.started(settings)) == 5  # ... until --retry-failed


def test_an_interrupt_puts_the_running_job_back(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    enqueue(settings, configs(2))
    with pytest.raises(KeyboardInterrupt):
        work(WorkerOptions(queue_path(settings.results), "s", settings, runner=interrupted))
    assert counts(settings)[JobState.PENDING] == 2
    assert work(options(settings)) == 2
    with JobQueue(queue_path(settings.results)) as queue:
        attempts = queue._db.execute("SELECT attempts FROM jobs").fetchall()
    assert attempts == [(1,), (1,)]  # the interrupted claim did not count


@pytest.mark.slow
def test_two_worker_processes_drain_the_queue_without_running_a_job_twice(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path)
    jobs = configs(12, "together")
    final = run_local("s", jobs, settings, workers=2, runner=fakes.run_tracked)
    assert final[JobState.DONE] == 12
    finished = fakes.finished(settings)
    assert len(finished) == 12 and set(finished.values()) == {1}
    pids = {path.name.split("-")[-2] for path in fakes.markers(settings).glob("*-done-*")}
    assert len(pids) == 2 and str(os.getpid()) not in pids


def _spawn_worker(settings: Settings, lease: float) -> multiprocessing.Process:
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=_worker_process,
        args=(options(settings, lease=lease),),
    )
    process.start()
    return process


@pytest.mark.slow
def test_a_killed_worker_loses_its_job_which_then_runs_exactly_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    enqueue(settings, [*configs(1, "block"), *configs(2)])
    process = _spawn_worker(settings, lease=3600.0)
    wait_until(lambda: len(fakes.started(settings)) == 1)
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    assert counts(settings)[JobState.RUNNING] == 1  # nobody released it
    (settings.results / "release").touch()
    final = run_local("s", [*configs(1, "block"), *configs(2)], settings, runner=fakes.run_tracked)
    assert final[JobState.DONE] == 3
    assert set(fakes.finished(settings).values()) == {1} and len(fakes.finished(settings)) == 3


@pytest.mark.slow
def test_sigterm_to_a_session_puts_its_workers_jobs_back_in_line(tmp_path: Path) -> None:
    """``docker stop``: the session stops its workers, which release their jobs, and exits."""
    settings = Settings(home=tmp_path)
    session = multiprocessing.get_context("spawn").Process(
        target=fakes.run_local_main, args=(settings, configs(3, "block"))
    )
    session.start()
    wait_until(lambda: len(fakes.started(settings)) == 2)  # both workers are training
    session.terminate()
    session.join(60)
    assert session.exitcode == 130
    assert counts(settings) == {
        JobState.PENDING: 3,
        JobState.RUNNING: 0,
        JobState.DONE: 0,
        JobState.FAILED: 0,
    }
    assert not fakes.finished(settings)
