"""Run a spec with no W&B server: queue its configurations, then let worker processes drain them.

Each worker claims a job, renews its lease from a heartbeat thread while the run trains, and
records the outcome: done, or failed with a one-line error. Each run is a W&B run in offline mode
(``wandb sync`` uploads it later), or online on request (offline after all when the server does
not answer). Ctrl-C or SIGTERM puts the jobs being run back in line, and the
same command resumes; a worker killed outright loses only its lease (see ``radsweep.sweeps.queue``).
Workers of a session killed outright put their jobs back and exit (no orphan keeps training), and
a killed attempt's offline W&B run is deleted once the job's next attempt has opened its own, so
``wandb sync`` uploads one run per job.
"""

import multiprocessing
import os
import shutil
import signal
import sqlite3
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from radsweep.errors import RadsweepError, SweepError
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.packaged import queue_name, resolve_spec, spec_of
from radsweep.sweeps.queue import (
    DEFAULT_LEASE_SECONDS,
    Failure,
    Job,
    JobQueue,
    JobState,
    Outcome,
    queue_path,
    worker_id,
)
from radsweep.tracking.folders import check_writable, offline_runs

Runner = Callable[..., Outcome]
"""``run_tracked``'s signature: (config, settings, *, mode, project, entity, group, device,
run_id)."""
StudentsRunner = Callable[..., Sequence[Outcome]]
"""``run_tracked_students``'s signature: (configs, settings, *, mode, project, group, device,
run_ids, recorded)."""
Counts = dict[JobState, int]
STOP_GRACE_SECONDS = 30.0
POLL_SECONDS = 0.5
PARENT_POLL_SECONDS = 0.2


class Interrupted(BaseException):
    """SIGTERM in a worker: unwinds the run like Ctrl-C, so its job goes back to pending."""


@dataclass(frozen=True)
class WorkerOptions:
    """Everything a (spawned) worker needs; picklable."""

    queue: Path
    spec: str  # the spec's name in the queue
    settings: Settings
    device: str | None = None
    project: str = "radsweep"
    lease: float = DEFAULT_LEASE_SECONDS
    runner: Runner | None = None  # None: radsweep.sweeps.agents.run_tracked
    mode: str = "offline"  # W&B mode of the runs
    group: str | None = None  # W&B group of the runs (default: the spec's name in the queue)
    # None: radsweep.sweeps.agents.run_tracked_students, unless ``runner`` is given: then one
    # job at a time
    students: StudentsRunner | None = None


def _tracked_runner() -> Runner:
    from radsweep.sweeps.agents import run_tracked

    return run_tracked


def _students_runner(options: WorkerOptions) -> StudentsRunner | None:
    """What trains a student group in one pass; None: every job alone (a custom ``runner``
    without a ``students`` runner of its own)."""
    if options.students is not None or options.runner is not None:
        return options.students
    from radsweep.sweeps.agents import run_tracked_students

    return run_tracked_students


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises ``Interrupted`` while the body runs (signals reach the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def work(options: WorkerOptions) -> int:
    """Claim and run the spec's jobs until none is pending; return how many this worker ran.

    Jobs that are students of one teacher (distillations differing only in τ and λ) are
    claimed together and trained in one pass, each still recorded as its own run. A user error
    fails the job with its message, a crash with the exception's first line (the traceback goes
    to stderr); an interrupt puts the job back and propagates.
    """
    runner = options.runner or _tracked_runner()
    students = _students_runner(options)
    worker = worker_id()
    ran = 0
    with _sigterm_interrupts(), JobQueue(options.queue) as queue:
        while jobs := _claim(queue, worker, options, students is not None):
            if len(jobs) == 1:
                _run_job(queue, jobs[0], worker, runner, options)
            else:
                assert students is not None
                _run_students(queue, jobs, worker, students, options)
            ran += len(jobs)
    return ran


def _claim(queue: JobQueue, worker: str, options: WorkerOptions, grouped: bool) -> list[Job]:
    if grouped:
        return queue.claim_students(worker, options.spec, options.lease)
    job = queue.claim(worker, options.spec, options.lease)
    return [] if job is None else [job]


def _drop_abandoned(job: Job, settings: Settings) -> None:
    """Delete the unfinished W&B runs of earlier, killed attempts, so ``wandb sync`` uploads one
    run per job instead of crashed duplicates. When this attempt opened no run of its own (its
    result was stored by an earlier attempt, or it failed before training), the latest earlier
    run is kept: it is the job's only W&B record."""
    keep = None
    if not offline_runs(settings.wandb, job.wandb_run):
        keep = next(
            (old for old in reversed(job.abandoned) if offline_runs(settings.wandb, old)), None
        )
    for run_id in job.abandoned:
        if run_id != keep:
            for folder in offline_runs(settings.wandb, run_id):
                shutil.rmtree(folder, ignore_errors=True)


def _run_job(
    queue: JobQueue, job: Job, worker: str, runner: Runner, options: WorkerOptions
) -> None:
    with _heartbeat(options.queue, [job.id], worker, options.lease):
        try:
            outcome = runner(
                job.config,
                options.settings,
                mode=options.mode,
                project=options.project,
                group=options.group or options.spec,
                device=options.device,
                run_id=job.wandb_run,
            )
        except RadsweepError as error:
            _drop_abandoned(job, options.settings)
            queue.fail(job.id, worker, error.one_line())
        except Exception as error:
            traceback.print_exc()
            _drop_abandoned(job, options.settings)
            queue.fail(job.id, worker, f"{type(error).__name__}: {error}")
        except BaseException:
            queue.release(job.id, worker)
            raise
        else:
            _drop_abandoned(job, options.settings)
            queue.complete(job.id, worker, outcome)


def _run_students(
    queue: JobQueue, jobs: list[Job], worker: str, runner: StudentsRunner, options: WorkerOptions
) -> None:
    """One student group in one pass; each job done as soon as its run is recorded. Jobs left
    unrecorded when the pass fails fail with its error, or go back in line on an interrupt."""
    finished: set[int] = set()

    def recorded(index: int, outcome: Outcome) -> None:
        _drop_abandoned(jobs[index], options.settings)
        queue.complete(jobs[index].id, worker, outcome)
        finished.add(index)

    def left() -> list[Job]:
        return [job for index, job in enumerate(jobs) if index not in finished]

    with _heartbeat(options.queue, [job.id for job in jobs], worker, options.lease):
        try:
            runner(
                [job.config for job in jobs],
                options.settings,
                mode=options.mode,
                project=options.project,
                group=options.group or options.spec,
                device=options.device,
                run_ids=[job.wandb_run for job in jobs],
                recorded=recorded,
            )
        except RadsweepError as error:
            _fail(queue, left(), worker, error.one_line(), options)
        except Exception as error:
            traceback.print_exc()
            _fail(queue, left(), worker, f"{type(error).__name__}: {error}", options)
        except BaseException:
            for job in left():
                queue.release(job.id, worker)
            raise


def _fail(
    queue: JobQueue, jobs: list[Job], worker: str, error: str, options: WorkerOptions
) -> None:
    for job in jobs:
        _drop_abandoned(job, options.settings)
        queue.fail(job.id, worker, error)


@contextmanager
def _heartbeat(path: Path, jobs: Sequence[int], worker: str, lease: float) -> Iterator[None]:
    """Renew the jobs' leases every third of a lease while the body runs."""
    stop = threading.Event()

    def beat() -> None:
        with JobQueue(path) as queue:
            while not stop.wait(lease / 3):
                for job in jobs:
                    try:
                        queue.heartbeat(job, worker, lease)
                    except sqlite3.OperationalError:
                        continue  # busy past the timeout: the next beat renews the lease

    thread = threading.Thread(target=beat, name=f"heartbeat-{jobs[0]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _exit_with_parent(parent: int) -> None:
    """SIGTERM this worker once its session is gone (SIGKILLed): an orphan would keep training
    while the sweep looks dead. SIGTERM puts the job back in line, as ``docker stop`` does."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def worker_threads(workers: int) -> int | None:
    """Intra-op threads for each of ``workers`` processes on this machine's cores; None where
    the user set OMP_NUM_THREADS. PyTorch gives every process a thread per core, so workers
    oversubscribe the CPU and spin: on 2 cores, two workers' demo fits took 245 s each at
    PyTorch's default against 24 s at one thread each (12.6 s for one fit alone)."""
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return max(1, len(os.sched_getaffinity(0)) // workers)


def worker_process(
    options: WorkerOptions, parent: int | None = None, threads: int | None = None
) -> None:
    """A spawned worker's entry point: an interrupt ends it quietly (its job is back in line).
    ``threads``: its share of the cores for PyTorch (``worker_threads``)."""
    if parent is not None:
        _exit_with_parent(parent)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    try:
        work(options)
    except (KeyboardInterrupt, Interrupted):
        sys.exit(130)


def run_local(
    spec: str,
    configs: list[RunConfig],
    settings: Settings,
    *,
    workers: int = 1,
    device: str | None = None,
    retry_failed: bool = False,
    project: str = "radsweep",
    lease: float = DEFAULT_LEASE_SECONDS,
    runner: Runner | None = None,
    on_progress: Callable[[Counts], None] | None = None,
    mode: str = "offline",
    group: str | None = None,
) -> Counts:
    """Queue ``configs`` under ``spec`` (idempotent) and drain them with ``workers`` processes.

    ``spec`` names the jobs in the queue (``SweepSpec.queue_name``); ``group`` is the W&B group
    of the runs (the spec's own name; by default ``spec``).

    A single worker runs in this process; more are spawned (``spawn``: safe with CUDA). Jobs left
    running by dead workers of an earlier session on this machine are put back in line first.
    Returns the spec's job counts at the end.
    """
    from radsweep.tasks.registry import find_task_directory
    from radsweep.tracking.session import check_timeouts

    check_timeouts()  # a bad setting is one error now, not one failure per run
    check_writable(settings)  # so is a W&B folder that cannot be created
    if runner is None:  # radsweep's runs read each task's manifest: one line now, not N failures
        for task in dict.fromkeys(config.task for config in configs):
            find_task_directory(task, settings.data)
    path = queue_path(settings.results)
    with JobQueue(path) as queue:
        queue.adopt(spec_of(spec), spec)  # jobs queued under the bare stem by older versions
        queue.enqueue(spec, configs)
        if retry_failed:
            queue.retry_failed(spec)
        queue.recover()
    options = WorkerOptions(path, spec, settings, device, project, lease, runner, mode, group)
    with _watching(path, spec, on_progress), _sigterm_interrupts():  # docker stop: SIGTERM
        if workers == 1:
            work(options)
        else:
            _run_processes(options, workers)
    with JobQueue(path) as queue:
        return queue.spec_counts(spec)


def _run_processes(options: WorkerOptions, workers: int) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=worker_process,
            args=(options, os.getpid(), worker_threads(workers)),
            name=f"radsweep-worker-{index}",
        )
        for index in range(workers)
    ]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.join()
    finally:
        _stop(processes)
        with JobQueue(options.queue) as queue:
            queue.recover()  # jobs of workers that died without releasing them


def _stop(processes: list[Any]) -> None:
    """SIGTERM the workers still running (they release their jobs), then kill stragglers."""
    started = [process for process in processes if process.pid is not None]
    for process in started:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in started:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


@contextmanager
def _watching(
    path: Path, spec: str, on_progress: Callable[[Counts], None] | None
) -> Iterator[None]:
    """Report the spec's job counts from a thread while the workers run."""
    if on_progress is None:
        yield
        return
    stop = threading.Event()

    def watch() -> None:
        with JobQueue(path) as queue:
            while True:
                on_progress(queue.spec_counts(spec))
                if stop.wait(POLL_SECONDS):
                    return

    thread = threading.Thread(target=watch, name="sweep-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with JobQueue(path) as queue:
            on_progress(queue.spec_counts(spec))


@dataclass(frozen=True)
class SweepStatus:
    """The local queue's job counts per spec, and the latest failures of each (keyed by the
    spec's name, or by its queue name where two queued specs share a file name)."""

    queue: Path
    counts: dict[str, Counts]
    failures: dict[str, list[Failure]]

    def records(self) -> list[dict[str, object]]:
        """One JSON-ready record per spec: counts by state, total, failed configs with errors."""
        return [
            {
                "spec": name,
                "counts": {state.value: count for state, count in by_state.items()},
                "total": sum(by_state.values()),
                "failures": [
                    failure.config.model_dump(mode="json") | {"error": failure.error}
                    for failure in self.failures[name]
                ],
            }
            for name, by_state in self.counts.items()
        ]


def sweep_status(results: Path, spec: str | None = None, errors: int = 10) -> SweepStatus:
    """Every local sweep's (or ``spec``'s) counts, after putting dead workers' jobs back in line;
    an empty status when no sweep has run yet."""
    path = queue_path(results)
    if not path.is_file():
        return SweepStatus(path, {}, {})
    with JobQueue(path) as queue:
        queue.recover()
        counts = queue.counts()
        labels = _labels(list(counts))
        if spec is not None:
            wanted = _queued_as(spec, list(counts))
            counts = {name: by_state for name, by_state in counts.items() if name in wanted}
            if not counts:
                name = Path(spec).stem
                raise SweepError(
                    f"no local sweep named {name} in {path}",
                    hint=f"radsweep sweep local sweeps/{name}.yaml queues it",
                )
        failures = {name: queue.failures(name, errors) for name in counts}
    return SweepStatus(
        path,
        {labels[name]: by_state for name, by_state in counts.items()},
        {labels[name]: failed for name, failed in failures.items()},
    )


def _queued_as(spec: str, queued: list[str]) -> set[str]:
    """The queue names ``spec`` means: its file's, else every queued spec of that file name."""
    path = resolve_spec(spec)
    if path.is_file() and queue_name(path) in queued:
        return {queue_name(path)}
    return {name for name in queued if spec_of(name) == Path(spec).stem}


def _labels(queued: list[str]) -> dict[str, str]:
    """Each spec by its own name, unless two queued specs share it: then by its queue name."""
    stems = Counter(spec_of(name) for name in queued)
    return {name: spec_of(name) if stems[spec_of(name)] == 1 else name for name in queued}
