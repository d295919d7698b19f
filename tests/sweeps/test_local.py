import json
import multiprocessing
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.local import (
    WorkerOptions,
    run_local,
    sweep_status,
    work,
    worker_process,
    worker_threads,
)
from radsweep.sweeps.queue import JobQueue, JobState, queue_path, worker_id
from radsweep.sweeps.spec import load_spec
from tests.sweeps import fakes
from tests.sweeps.waits import wait_for_exit, wait_until


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
        attempts = [job.attempts for job in queue.jobs()]
    assert attempts == [1, 1]  # the interrupted claim did not count


@pytest.mark.slow
def test_two_worker_processes_drain_the_queue_without_running_a_job_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    settings = Settings(home=tmp_path)
    jobs = configs(12, "together")
    final = run_local("s", jobs, settings, workers=2, runner=fakes.run_tracked)
    assert final[JobState.DONE] == 12
    finished = fakes.finished(settings)
    assert len(finished) == 12 and set(finished.values()) == {1}
    done = list(fakes.markers(settings).glob("*-done-*"))
    pids = {path.name.split("-")[-2] for path in done}
    assert len(pids) == 2 and str(os.getpid()) not in pids
    # each worker's PyTorch takes its share of the cores, so two do not oversubscribe them
    cores = len(os.sched_getaffinity(0))
    assert {json.loads(path.read_text())["threads"] for path in done} == {max(1, cores // 2)}


def test_workers_share_the_cores_unless_the_user_set_openmp_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert worker_threads(1) == cores
    assert worker_threads(cores * 4) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert worker_threads(2) is None


def _spawn_worker(settings: Settings, lease: float) -> multiprocessing.Process:
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=worker_process,
        args=(options(settings, lease=lease),),
    )
    process.start()
    return process


@pytest.mark.slow
@pytest.mark.timeout(120)
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
@pytest.mark.timeout(120)
def test_sigterm_to_a_session_puts_its_workers_jobs_back_in_line(tmp_path: Path) -> None:
    """``docker stop``: the session stops its workers, which release their jobs, and exits."""
    settings = Settings(home=tmp_path)
    session = multiprocessing.get_context("spawn").Process(
        target=fakes.run_local_main, args=(settings, configs(3, "block"))
    )
    session.start()
    wait_until(lambda: len(fakes.started(settings)) == 2)  # both workers are training
    session.terminate()
    session.join()
    assert session.exitcode == 130
    assert counts(settings) == {
        JobState.PENDING: 3,
        JobState.RUNNING: 0,
        JobState.DONE: 0,
        JobState.FAILED: 0,
    }
    assert not fakes.finished(settings)


# Long enough that the test sees each worker inside its fit before the fit ends; the workers are
# then frozen (SIGSTOP), so how long a fit lasts on a loaded machine does not matter after that.
REAL_EPOCHS = 40


def real_configs() -> list[RunConfig]:
    return [
        RunConfig(
            task="synth-prognostic",
            backbone="c2l",
            tiny=True,
            fraction=1.0,
            seeds=seeds,
            epochs=REAL_EPOCHS,
        )
        for seeds in ((0, 1), (2, 3), (4, 5))  # three runs, each as long as the others
    ]


def _running(settings: Settings) -> list[tuple[int, int]]:
    """(job id, worker PID) of the running jobs."""
    with JobQueue(queue_path(settings.results)) as queue:
        running = [job for job in queue.jobs() if job.state == JobState.RUNNING]
    return [(job.id, int(str(job.worker).rpartition("/")[2])) for job in running]


def _wandb_runs(settings: Settings) -> list[Path]:
    return list((settings.wandb / "wandb").glob("offline-run-*/run-*.wandb"))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_real_runs_killed_mid_training_are_done_exactly_once_after_a_restart(
    tiny_features: Settings, tmp_path: Path
) -> None:
    """Two workers train real runs; SIGKILL each inside its fit (the first, then the other: a
    lost machine). The restarted sweep trains what was lost; every run is done once, stored once.
    """
    settings = tiny_features.model_copy(update={"home": tmp_path / "home"})
    enqueue(settings, real_configs(), "real")
    options = WorkerOptions(queue_path(settings.results), "real", settings, device="cpu")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=worker_process, args=(options,)) for _ in range(2)]
    try:
        # One worker at a time: once it holds a job and has opened that job's W&B run, what
        # follows is the fit, and SIGSTOP freezes it there until both are killed together.
        for started, worker in enumerate(workers, start=1):
            worker.start()
            wait_until(
                lambda n=started: len(_running(settings)) == n and len(_wandb_runs(settings)) == n
            )
            os.kill(worker.pid, signal.SIGSTOP)
        killed = _running(settings)
        for _, pid in killed:
            os.kill(pid, signal.SIGKILL)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
            worker.join()
    store = ResultsStore(default_store_path(settings))
    assert store.runs().empty  # both died inside training, before recording
    assert {pid for _, pid in killed} == {worker.pid for worker in workers}
    assert counts(settings, "real")[JobState.RUNNING] == 2

    final = run_local("real", real_configs(), settings, device="cpu")

    assert final == {JobState.PENDING: 0, JobState.RUNNING: 0, JobState.DONE: 3, JobState.FAILED: 0}
    with JobQueue(queue_path(settings.results)) as queue:
        jobs = [(job.id, job.attempts, job.run_key) for job in queue.jobs()]
    attempts = {job: tries for job, tries, _ in jobs}
    assert [attempts[job] for job, _ in killed] == [2, 2] and sum(attempts.values()) == 5
    keys = sorted(key for _, _, key in jobs)
    assert len(set(keys)) == 3 and sorted(store.runs()["run_key"]) == keys  # one row per key
    seeds = store.seed_metrics()
    assert len(seeds) == 3 * 2 and not seeds.duplicated(["run_key", "stage", "seed"]).any()
    assert len(store.curves()) == 3 * 2 * REAL_EPOCHS
    assert len(_wandb_runs(settings)) == 3  # the killed attempts' runs were dropped: no duplicate


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_workers_of_a_sigkilled_session_put_their_jobs_back_and_exit(tmp_path: Path) -> None:
    """``kill -9`` of ``sweep local --workers 2``: no orphan keeps training, no job is lost."""
    settings = Settings(home=tmp_path)
    session = multiprocessing.get_context("spawn").Process(
        target=fakes.run_local_main, args=(settings, configs(3, "block"))
    )
    session.start()
    wait_until(lambda: len(fakes.started(settings)) == 2)
    workers = [json.loads(path.read_text())["pid"] for path in fakes.started(settings)]
    os.kill(session.pid, signal.SIGKILL)
    session.join()
    wait_for_exit(workers)
    assert counts(settings)[JobState.PENDING] == 3 and not fakes.finished(settings)


def _opens_a_wandb_run(
    config: RunConfig, settings: Settings, run_id: str, **_: object
) -> fakes.FakeOutcome:
    """Leaves what an offline W&B run leaves: a folder named after its run id."""
    (settings.wandb / "wandb" / f"offline-run-20260101_000000-{run_id}").mkdir(parents=True)
    return fakes.FakeOutcome(fakes.key(config), False, 0.01, 0.5)


def _skips(config: RunConfig, settings: Settings, **_: object) -> fakes.FakeOutcome:
    return fakes.FakeOutcome(fakes.key(config), True, 0.01, None)


@pytest.mark.parametrize(("runner", "kept"), [(_opens_a_wandb_run, False), (_skips, True)])
def test_the_wandb_run_of_a_killed_attempt_does_not_sync_as_a_duplicate(
    tmp_path: Path, runner: Callable[..., fakes.FakeOutcome], kept: bool
) -> None:
    settings = Settings(home=tmp_path)
    enqueue(settings, configs(1))
    crashed = []
    for attempt in range(2):  # two attempts SIGKILLed in turn, each after opening its W&B run
        with JobQueue(queue_path(settings.results)) as queue:
            dead = queue.claim(worker_id().rpartition("/")[0] + "/999999999", "s")
        assert dead is not None
        crashed.append(settings.wandb / "wandb" / f"offline-run-2025010{attempt}-{dead.wandb_run}")
        crashed[-1].mkdir(parents=True)
    options = WorkerOptions(queue_path(settings.results), "s", settings, runner=runner)
    assert work(options) == 1
    runs = sorted(path.name for path in (settings.wandb / "wandb").iterdir())
    assert [folder.exists() for folder in crashed] == [False, kept]  # the latest: the record
    assert len(runs) == 1  # one W&B run per job either way


def test_two_specs_with_one_file_name_keep_their_own_jobs(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first, second = (tmp_path / folder / "mini.yaml" for folder in ("a", "b"))
    for path, tasks in ((first, "[synth-age]"), (second, "[synth-prognostic]")):
        path.parent.mkdir()
        path.write_text(f"method: grid\nparameters:\n  task: {{values: {tasks}}}\n")
    names = [load_spec(path).queue_name for path in (first, second)]
    assert names[0] != names[1] and all(name.startswith("mini@") for name in names)
    assert names[0] == load_spec(first).queue_name  # the same file: the same jobs
    enqueue(settings, configs(2), names[0])  # a's jobs, queued by another worker's session
    final = run_local(
        names[1], configs(1, "synth-prognostic"), settings, runner=fakes.run_tracked, group="mini"
    )
    assert final[JobState.DONE] == 1
    assert counts(settings, names[0])[JobState.PENDING] == 2  # b did not drop a's queued jobs
    details = [path.read_text() for path in fakes.markers(settings).glob("*-done-*")]
    assert all('"group": "mini"' in text for text in details)
    status = sweep_status(settings.results)
    assert set(status.counts) == set(names)  # one file name, two specs: told apart
    assert set(sweep_status(settings.results, str(first)).counts) == {names[0]}
    assert set(sweep_status(settings.results, "mini").counts) == set(names)


def test_jobs_queued_under_the_bare_file_name_are_adopted(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    enqueue(settings, configs(2), "mini")  # a queue written before specs had queue names
    final = run_local("mini@0123abcd", configs(2), settings, runner=fakes.run_tracked)
    assert final[JobState.DONE] == 2 and sum(final.values()) == 2
    assert set(sweep_status(settings.results).counts) == {"mini"}
