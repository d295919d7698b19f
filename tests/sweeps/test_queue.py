import sqlite3
import time
from pathlib import Path

import pytest

from radsweep.errors import RadsweepError
from radsweep.runs.config import RunConfig
from radsweep.sweeps.queue import MAX_ATTEMPTS, JobQueue, JobState, worker_id
from tests.sweeps.fakes import FakeOutcome

OTHER_HOST = "elsewhere/pid:[1]/4242"  # a worker on another machine: only its lease speaks


def configs(count: int, task: str = "synth-age") -> list[RunConfig]:
    return [
        RunConfig(task=task, backbone="c2l", fraction=0.1, views=1, view_seed=index)
        for index in range(count)
    ]


@pytest.fixture
def queue(tmp_path: Path) -> JobQueue:
    with JobQueue(tmp_path / "queue.sqlite") as opened:
        yield opened


def test_the_queue_file_is_in_wal_mode(queue: JobQueue) -> None:
    with sqlite3.connect(queue.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_enqueue_is_idempotent_per_spec(queue: JobQueue) -> None:
    assert queue.enqueue("a", configs(3)) == (3, 0)
    assert queue.enqueue("a", configs(3)) == (0, 0)
    assert queue.enqueue("b", configs(2)) == (2, 0)  # the same configuration in another spec
    assert queue.counts() == {
        "a": {JobState.PENDING: 3, JobState.RUNNING: 0, JobState.DONE: 0, JobState.FAILED: 0},
        "b": {JobState.PENDING: 2, JobState.RUNNING: 0, JobState.DONE: 0, JobState.FAILED: 0},
    }


def test_an_edited_spec_drops_unstarted_jobs_and_keeps_finished_ones(queue: JobQueue) -> None:
    queue.enqueue("a", configs(3))
    job = queue.claim("w", "a")
    assert job is not None
    queue.complete(job.id, "w", FakeOutcome("k", False, 1.0, 0.7))
    assert queue.enqueue("a", configs(1, task="synth-prognostic")) == (1, 2)
    counts = queue.spec_counts("a")
    assert counts[JobState.DONE] == 1 and counts[JobState.PENDING] == 1


def test_claims_go_oldest_first_and_only_once(queue: JobQueue) -> None:
    queue.enqueue("a", configs(2))
    first, second = queue.claim("w1", "a"), queue.claim("w2", "a")
    assert first is not None and second is not None
    assert first.config.view_seed == 0 and second.config.view_seed == 1
    assert first.attempts == 1
    assert queue.claim("w3", "a") is None
    assert queue.claim("w3", "other-spec") is None


def test_claims_stay_within_their_spec(queue: JobQueue) -> None:
    queue.enqueue("a", configs(1))
    queue.enqueue("b", configs(1, task="synth-prognostic"))
    job = queue.claim("w", "b")
    assert job is not None and job.spec == "b" and job.config.task == "synth-prognostic"


def test_complete_records_the_outcome(queue: JobQueue) -> None:
    queue.enqueue("a", configs(1))
    job = queue.claim("w", "a")
    assert job is not None
    assert not queue.complete(job.id, "someone-else", FakeOutcome("k", False, 1.0, 0.7))
    assert queue.complete(job.id, "w", FakeOutcome("k", True, 1.5, None))
    row = sqlite3.connect(queue.path).execute(
        "SELECT state, run_key, skipped, seconds, mean_auc FROM jobs"
    )
    assert row.fetchone() == ("done", "k", 1, 1.5, None)
    assert queue.claim("w", "a") is None


def test_failures_keep_one_line_and_retry_puts_them_back(queue: JobQueue) -> None:
    queue.enqueue("a", configs(1))
    job = queue.claim("w", "a")
    assert job is not None
    assert queue.fail(job.id, "w", "RuntimeError: boom\n  second line")
    [failure] = queue.failures("a")
    assert failure.error == "RuntimeError: boom second line"
    assert failure.config == configs(1)[0]
    assert queue.retry_failed("a") == 1
    again = queue.claim("w", "a")
    assert again is not None and again.attempts == 1


def test_release_returns_an_interrupted_job_without_counting_the_attempt(queue: JobQueue) -> None:
    queue.enqueue("a", configs(1))
    job = queue.claim("w", "a")
    assert job is not None
    assert queue.release(job.id, "w")
    again = queue.claim("w", "a")
    assert again is not None and again.id == job.id and again.attempts == 1


def test_an_expired_lease_goes_back_to_pending(queue: JobQueue) -> None:
    queue.enqueue("a", configs(1))
    assert queue.claim(OTHER_HOST, "a", lease=0.2) is not None
    assert queue.claim("w", "a") is None  # the lease still holds
    time.sleep(0.3)
    job = queue.claim("w", "a")
    assert job is not None and job.attempts == 2
    assert not queue.complete(job.id, OTHER_HOST, FakeOutcome("k", False, 1.0, 0.5))
    assert queue.complete(job.id, "w", FakeOutcome("k", False, 1.0, 0.5))


def test_heartbeats_keep_the_lease(queue: JobQueue) -> None:
    queue.enqueue("a", configs(1))
    job = queue.claim(OTHER_HOST, "a", lease=0.3)
    assert job is not None
    for _ in range(3):
        time.sleep(0.15)
        assert queue.heartbeat(job.id, OTHER_HOST, lease=0.3)
    assert queue.claim("w", "a") is None
    assert not queue.heartbeat(job.id, "w")


def test_a_dead_local_worker_loses_its_job_at_once(queue: JobQueue) -> None:
    queue.enqueue("a", configs(1))
    host_and_namespace = worker_id().rsplit("/", 1)[0]
    dead = f"{host_and_namespace}/999999999"  # no such process on this machine
    assert queue.claim(dead, "a", lease=3600) is not None
    assert queue.recover() == 1
    assert queue.spec_counts("a")[JobState.PENDING] == 1


def test_a_job_whose_worker_keeps_vanishing_fails(queue: JobQueue) -> None:
    queue.enqueue("a", configs(1))
    for _ in range(MAX_ATTEMPTS):
        assert queue.claim(OTHER_HOST, "a", lease=0.0) is not None
    assert queue.claim("w", "a") is None
    [failure] = queue.failures("a")
    assert f"vanished {MAX_ATTEMPTS} times" in failure.error


def test_each_attempt_has_a_wandb_id_and_knows_the_unfinished_one_before_it(
    queue: JobQueue,
) -> None:
    queue.enqueue("a", configs(1))
    first = queue.claim(OTHER_HOST, "a", lease=0.0)  # its lease is over at once: a lost worker
    assert first is not None and first.abandoned == () and first.wandb_run
    second = queue.claim(OTHER_HOST, "a", lease=0.0)
    assert second is not None and second.id == first.id
    assert second.abandoned == (first.wandb_run,) and second.wandb_run != first.wandb_run
    third = queue.claim(worker_id(), "a")  # two killed attempts before it: both are listed
    assert third is not None and third.abandoned == (first.wandb_run, second.wandb_run)
    queue.complete(third.id, worker_id(), FakeOutcome("k", False, 1.0, 0.5))
    [record] = queue.jobs()
    assert (record.wandb_run, record.abandoned) == (None, ())  # its worker has dealt with them


def test_a_queue_file_from_before_wandb_ids_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, spec TEXT NOT NULL, config TEXT NOT NULL,"
            " state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
            " worker TEXT, lease_until REAL, run_key TEXT, skipped INTEGER, seconds REAL,"
            " mean_auc REAL, error TEXT, updated REAL NOT NULL, UNIQUE (spec, config))"
        )
    with JobQueue(path) as upgraded:
        upgraded.enqueue("a", configs(1))
        assert upgraded.claim(worker_id(), "a") is not None


def test_a_damaged_queue_file_is_named_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite"
    path.write_bytes(b"this is not SQLite" * 500)
    with pytest.raises(RadsweepError, match=str(path)) as caught:
        JobQueue(path)
    assert "re-queues" in (caught.value.hint or "")
