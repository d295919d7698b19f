"""Fault injection, in the spirit of SQLite's crash tests and Jepsen: SIGKILL sweep workers and the
``sweep local`` parent at random moments across a real small sweep, restart, and check that every
job was done exactly once: no lost or duplicate row, no orphan process, no duplicate W&B run.
"""

import math
import multiprocessing
import os
import random
import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.local import run_local
from radsweep.sweeps.queue import JobQueue, JobState, queue_path
from tests.sweeps.waits import wait_for_exit

# Each parent kill costs a new session (a parent and two workers importing PyTorch and W&B,
# most of the test's time); a worker kill costs none: most kills go to workers.
KILLS = 12
JOBS_PER_BATCH = 6
EPOCHS = 6
SPEC = "faults"
RANDOM_SEED = 20260
IN_FLIGHT_SHARE = 0.8  # kills timed from the start of a job (the rest: from the session's start)
WORKER_SHARE = 0.7  # of kills while a worker holds a job: that worker, else the parent


def batch(index: int) -> list[RunConfig]:
    """Six real one-seed runs; a new batch (other seeds) whenever fewer than six are left to do."""
    first = index * JOBS_PER_BATCH
    return [
        RunConfig(
            task="synth-prognostic",
            backbone="c2l",
            tiny=True,
            fraction=1.0,
            seeds=(seed,),
            epochs=EPOCHS,
        )
        for seed in range(first, first + JOBS_PER_BATCH)
    ]


def session(settings: Settings, configs: list[RunConfig]) -> None:
    """``radsweep sweep local --workers 2`` as its own process, to be killed."""
    run_local(SPEC, configs, settings, workers=2, device="cpu")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone: it holds nothing but its exit code)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def running_workers(settings: Settings) -> list[int]:
    with JobQueue(queue_path(settings.results)) as queue:
        workers = [job.worker for job in queue.jobs() if job.state is JobState.RUNNING]
    return [int(worker.rpartition("/")[2]) for worker in workers if worker is not None]


def counts(settings: Settings) -> dict[JobState, int]:
    with JobQueue(queue_path(settings.results)) as queue:
        return queue.spec_counts(SPEC)


def wandb_runs_per_job(settings: Settings) -> Counter[int]:
    """Local W&B runs by queue job (the run id the queue gave each attempt: q<job>a<attempt>...)."""
    names = [path.name for path in (settings.wandb / "wandb").glob("offline-run-*")]
    return Counter(int(re.search(r"-q(\d+)a\d+", name).group(1)) for name in names)  # type: ignore[union-attr]


def _kill_at_a_random_moment(
    settings: Settings, process: multiprocessing.Process, rng: random.Random, tally: Counter[str]
) -> set[int]:
    """SIGKILL the parent or a worker holding a job at a random moment: most often a random
    while after a job started (inside W&B's init, the fit, the store's transaction or W&B's
    finish), otherwise anywhere from the session's start-up on. Return every process the session
    ran, so that none may outlive it."""
    seen: set[int] = set()

    def watch(seconds: float, until: Callable[[], bool] = lambda: False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and process.is_alive() and not until():
            seen.update(descendants(process.pid))
            time.sleep(0.05)

    if rng.random() < IN_FLIGHT_SHARE:
        watch(
            math.inf,
            lambda: any(pid in seen and alive(pid) for pid in running_workers(settings)),
        )
        watch(rng.uniform(0.0, 4.0))
    else:
        watch(rng.uniform(0.0, 8.0))
    if not process.is_alive():
        return seen
    # A job stays 'running' under a worker killed earlier until it is reclaimed: skip the dead.
    workers = [pid for pid in running_workers(settings) if pid in seen and alive(pid)]
    target = rng.choice(workers) if workers and rng.random() < WORKER_SHARE else process.pid
    try:
        os.kill(target, signal.SIGKILL)
    except ProcessLookupError:
        return seen  # it finished just now: no kill, the next moment is drawn afresh
    tally["kills while a job ran"] += bool(workers)
    tally["worker kills" if target != process.pid else "parent kills"] += 1
    return seen


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_random_sigkills_lose_nothing_and_duplicate_nothing(
    tiny_features: Settings, tmp_path: Path
) -> None:
    settings = tiny_features.model_copy(update={"home": tmp_path / "home"})
    rng = random.Random(RANDOM_SEED)
    context = multiprocessing.get_context("spawn")
    tally: Counter[str] = Counter()
    configs = batch(0)
    while tally["worker kills"] + tally["parent kills"] < KILLS:
        # Keep a batch of work in line: a session that runs out of jobs ends before its kill.
        if len(configs) - counts(settings)[JobState.DONE] < JOBS_PER_BATCH:
            configs = configs + batch(len(configs) // JOBS_PER_BATCH)
        process = context.Process(target=session, args=(settings, configs))
        process.start()
        tally["sessions"] += 1
        spawned = {process.pid}
        while process.is_alive() and tally["worker kills"] + tally["parent kills"] < KILLS:
            spawned |= _kill_at_a_random_moment(settings, process, rng, tally)
        process.join()
        wait_for_exit(spawned)  # the workers of a killed parent exit on their own

    tally["jobs given up after 3 lost workers"] = counts(settings)[JobState.FAILED]
    final = run_local(SPEC, configs, settings, workers=2, device="cpu", retry_failed=True)
    tally["sessions"] += 1

    with JobQueue(queue_path(settings.results)) as queue:
        jobs = queue.jobs()
    store = ResultsStore(default_store_path(settings))
    runs, seeds = store.runs(), store.seed_metrics()
    per_job = wandb_runs_per_job(settings)
    tally.update(
        jobs=len(jobs),
        **{"attempts (final count)": sum(job.attempts for job in jobs)},
        rows=len(runs),
        **{"W&B runs": sum(per_job.values())},
    )
    print("fault injection:", ", ".join(f"{name} {count}" for name, count in sorted(tally.items())))

    assert tally["worker kills"] > 0 and tally["parent kills"] > 0
    assert final == {
        JobState.PENDING: 0,
        JobState.RUNNING: 0,
        JobState.DONE: len(configs),
        JobState.FAILED: 0,
    }
    keys = [job.run_key for job in jobs]
    assert len(set(keys)) == len(configs) and sorted(runs["run_key"]) == sorted(keys)
    assert len(seeds) == len(configs) and not seeds.duplicated(["run_key", "seed"]).any()
    assert len(store.curves()) == len(configs) * EPOCHS
    assert max(per_job.values(), default=0) <= 1  # no job left a second W&B run to sync
    trained = {job.id for job in jobs if not job.skipped}
    assert trained <= set(per_job)  # every run trained by its last attempt has its W&B run
