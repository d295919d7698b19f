"""The local job queue: one SQLite file that worker processes, or containers sharing it, pull from.

A job is one configuration of one spec, keyed by (spec name, canonical config JSON), so enqueuing a
spec twice adds nothing. Claims run in ``BEGIN IMMEDIATE`` transactions (WAL mode, a busy timeout),
so two workers never claim the same job. A claimed job carries a lease that its worker renews while
the run trains; a worker killed at any moment leaves a lease that expires (or, on the same machine,
a process that no longer exists), and the next claim puts the job back in line. A re-run cannot
duplicate a result: the results store skips a run key it already holds.

SQLite's locking needs one machine's file system: share the queue through a local volume, not NFS.
"""

import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from radsweep.errors import StoreError, sqlite_hint
from radsweep.runs.config import MAX_SEEDS, RunConfig

DEFAULT_LEASE_SECONDS = 120.0
MAX_ATTEMPTS = 3
"""Claims of one job whose worker vanished before it gives up (a run that kills its worker)."""
BUSY_TIMEOUT_MS = 30_000
QUEUE_FILE = "queue.sqlite"

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    spec TEXT NOT NULL,
    config TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_until REAL,
    run_key TEXT,
    skipped INTEGER,
    seconds REAL,
    mean_auc REAL,
    error TEXT,
    updated REAL NOT NULL,
    wandb_run TEXT,
    wandb_abandoned TEXT,
    UNIQUE (spec, config)
)""",
    "CREATE INDEX IF NOT EXISTS jobs_by_spec_state ON jobs (spec, state)",
)


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    """A claimed job. ``wandb_run`` is this attempt's W&B run id; ``abandoned`` the ids of the
    earlier attempts that never finished (killed or interrupted), oldest first, whose local W&B
    files would otherwise sync as crashed duplicates."""

    id: int
    spec: str
    config: RunConfig
    attempts: int
    wandb_run: str = ""
    abandoned: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobRecord:
    """One row of the queue as status views read it."""

    id: int
    spec: str
    state: JobState
    attempts: int
    worker: str | None
    run_key: str | None
    skipped: bool | None  # done jobs: whether the run was already stored
    wandb_run: str | None  # the running attempt's W&B run id
    abandoned: tuple[str, ...]  # W&B run ids of killed attempts not yet cleaned up


@dataclass(frozen=True)
class Failure:
    config: RunConfig
    error: str


class Outcome(Protocol):
    """What the queue keeps of a finished run (``RunOutcome`` has these), read-only as there."""

    @property
    def key(self) -> str: ...

    @property
    def skipped(self) -> bool: ...

    @property
    def seconds(self) -> float: ...

    @property
    def mean_auc(self) -> float | None: ...


_Row = tuple[int, str, str, int, str | None, str | None]
_CLAIMED = "id, spec, config, attempts, wandb_run, wandb_abandoned"  # a _Row's columns


def _job(row: _Row, run: str, abandoned: tuple[str, ...]) -> Job:
    """A claimed row as the job its worker runs (parsed after the claim is committed)."""
    return Job(row[0], row[1], RunConfig.from_stored(row[2]), row[3] + 1, run, abandoned)


def _group_key(config: str) -> str | None:
    """A queued config's student group key; None for one the current RunConfig rejects (its
    own claim fails it with the reason)."""
    try:
        return RunConfig.from_stored(config).student_group_key()
    except ValueError:
        return None


def queue_path(results_dir: Path) -> Path:
    """The queue lives beside the results store, so a shared results volume shares both."""
    return results_dir / QUEUE_FILE


def worker_id() -> str:
    """Host, PID namespace and PID: tells this machine's dead workers from other containers'."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:")
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}/{namespace}/{os.getpid()}"


def _gone(worker: str | None) -> bool:
    """True when ``worker`` ran in this PID namespace and its process no longer exists."""
    if worker is None:
        return True
    place, _, pid = worker.rpartition("/")
    if place != worker_id().rpartition("/")[0] or not pid.isdigit():
        return False  # another machine or container: only its lease can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class JobQueue:
    """One connection to the queue file; open one per process (and per thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            with self._write() as db:
                for statement in _SCHEMA:
                    db.execute(statement)
                columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
                for column in ("wandb_run", "wandb_abandoned"):  # queues from before W&B ids
                    if column not in columns:
                        db.execute(f"ALTER TABLE jobs ADD COLUMN {column} TEXT")
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StoreError(
                f"job queue {path}: {error}",
                hint=sqlite_hint(error) + " (the queue only holds job states: a new one "
                "re-queues the spec, and the results store skips finished runs)",
            ) from error

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "JobQueue":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the lock up front: no two claims interleave."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def enqueue(self, spec: str, configs: list[RunConfig]) -> tuple[int, int]:
        """Make ``spec``'s queue match ``configs``: return (jobs added, unstarted jobs dropped).

        Configurations already queued keep their state. Pending and failed jobs of ``spec`` that
        ``configs`` no longer holds (the spec file was edited) are dropped; finished ones stay.
        """
        now = time.time()
        texts = [config.canonical() for config in configs]
        with self._write() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO jobs (spec, config, updated) VALUES (?, ?, ?)",
                [(spec, text, now) for text in texts],
            )
            added = db.total_changes - before
            db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (config TEXT PRIMARY KEY)")
            db.execute("DELETE FROM wanted")
            db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", [(text,) for text in texts])
            dropped = db.execute(
                "DELETE FROM jobs WHERE spec = ? AND state IN ('pending', 'failed')"
                " AND config NOT IN (SELECT config FROM wanted)",
                (spec,),
            ).rowcount
        return added, dropped

    def adopt(self, old: str, new: str) -> int:
        """Move ``old``'s jobs to the spec name ``new`` (a job ``new`` already holds stays)."""
        if old == new:
            return 0
        with self._write() as db:
            moved = db.execute("UPDATE OR IGNORE jobs SET spec = ? WHERE spec = ?", (new, old))
            db.execute("DELETE FROM jobs WHERE spec = ?", (old,))
            return moved.rowcount

    def claim(
        self, worker: str, spec: str | None = None, lease: float = DEFAULT_LEASE_SECONDS
    ) -> Job | None:
        """The oldest pending job (of ``spec``), now running under ``worker``'s lease."""
        now = time.time()
        with self._write() as db:
            self._recover(db, now)
            row = self._oldest_pending(db, spec)
            if row is None:
                return None
            taken = self._take(db, row, worker, now + lease, now)
        return _job(*taken)

    def claim_students(
        self, worker: str, spec: str | None = None, lease: float = DEFAULT_LEASE_SECONDS
    ) -> list[Job]:
        """The oldest pending job (of ``spec``) and, if it distils, the pending jobs of its spec
        in its student group (``RunConfig.student_group_key``), up to ``MAX_SEEDS`` seeds in
        all: every one now running under ``worker``'s lease, to train in one pass."""
        now = time.time()
        with self._write() as db:
            self._recover(db, now)
            row = self._oldest_pending(db, spec)
            rows = [] if row is None else [row, *self._students_of(db, row)]
            taken = [self._take(db, each, worker, now + lease, now) for each in rows]
        return [_job(*each) for each in taken]

    @staticmethod
    def _oldest_pending(db: sqlite3.Connection, spec: str | None) -> _Row | None:
        row: _Row | None = db.execute(
            f"SELECT {_CLAIMED} FROM jobs WHERE state = 'pending'"
            + (" AND spec = ?" if spec is not None else "")
            + " ORDER BY id LIMIT 1",
            (spec,) if spec is not None else (),
        ).fetchone()
        return row

    @staticmethod
    def _students_of(db: sqlite3.Connection, row: _Row) -> list[_Row]:
        """The other pending jobs of ``row``'s spec in its student group, oldest first."""
        key = _group_key(row[2])
        if key is None:
            return []
        others: list[_Row] = db.execute(
            f"SELECT {_CLAIMED} FROM jobs WHERE state = 'pending' AND spec = ? AND id != ?"
            " ORDER BY id",
            (row[1], row[0]),
        ).fetchall()
        room = MAX_SEEDS // len(RunConfig.from_stored(row[2]).seeds) - 1
        return [other for other in others if _group_key(other[2]) == key][:room]

    @staticmethod
    def _take(
        db: sqlite3.Connection, row: _Row, worker: str, until: float, now: float
    ) -> tuple[_Row, str, tuple[str, ...]]:
        """Mark the pending ``row`` running under ``worker`` until ``until``; with this
        attempt's W&B run id and the earlier attempts' ids."""
        run = f"q{row[0]}a{row[3] + 1}{secrets.token_hex(4)}"
        abandoned = tuple((row[5] or "").split()) + ((row[4],) if row[4] else ())
        db.execute(
            "UPDATE jobs SET state = 'running', worker = ?, lease_until = ?,"
            " attempts = attempts + 1, updated = ?, wandb_run = ?, wandb_abandoned = ?"
            " WHERE id = ?",
            (worker, until, now, run, " ".join(abandoned) or None, row[0]),
        )
        return row, run, abandoned

    def heartbeat(self, job: int, worker: str, lease: float = DEFAULT_LEASE_SECONDS) -> bool:
        """Extend the lease; False if the job is no longer this worker's."""
        now = time.time()
        return self._update(
            "UPDATE jobs SET lease_until = ?, updated = ?"
            " WHERE id = ? AND worker = ? AND state = 'running'",
            (now + lease, now, job, worker),
        )

    def complete(self, job: int, worker: str, outcome: Outcome) -> bool:
        """Mark the job done with what its run reported; False if it was not this worker's."""
        return self._update(
            "UPDATE jobs SET state = 'done', run_key = ?, skipped = ?, seconds = ?, mean_auc = ?,"
            " error = NULL, lease_until = NULL, updated = ?, wandb_run = NULL,"
            " wandb_abandoned = NULL"
            " WHERE id = ? AND worker = ? AND state = 'running'",
            (
                outcome.key,
                outcome.skipped,
                outcome.seconds,
                outcome.mean_auc,
                time.time(),
                job,
                worker,
            ),
        )

    def fail(self, job: int, worker: str, error: str) -> bool:
        """Mark the job failed with a one-line error; it stays failed until a retry."""
        line = " ".join(error.split())
        return self._update(
            "UPDATE jobs SET state = 'failed', error = ?, lease_until = NULL, updated = ?,"
            " wandb_run = NULL, wandb_abandoned = NULL"
            " WHERE id = ? AND worker = ? AND state = 'running'",
            (line, time.time(), job, worker),
        )

    def release(self, job: int, worker: str) -> bool:
        """Put an interrupted job back in line; the interrupted claim does not count."""
        return self._update(
            "UPDATE jobs SET state = 'pending', worker = NULL, lease_until = NULL,"
            " attempts = MAX(attempts - 1, 0), updated = ?"
            " WHERE id = ? AND worker = ? AND state = 'running'",
            (time.time(), job, worker),
        )

    def retry_failed(self, spec: str | None = None) -> int:
        """Failed jobs (of ``spec``) back to pending with a fresh attempt count."""
        query = (
            "UPDATE jobs SET state = 'pending', error = NULL, worker = NULL, attempts = 0,"
            " updated = ? WHERE state = 'failed'"
        )
        if spec is None:
            return self._count(query, (time.time(),))
        return self._count(query + " AND spec = ?", (time.time(), spec))

    def recover(self) -> int:
        """Return running jobs whose worker is gone (lease expired, or dead here) to pending."""
        with self._write() as db:
            return self._recover(db, time.time())

    def _recover(self, db: sqlite3.Connection, now: float) -> int:
        rows = db.execute(
            "SELECT id, worker, lease_until, attempts FROM jobs WHERE state = 'running'"
        ).fetchall()
        stale = [row for row in rows if row[2] is None or row[2] < now or _gone(row[1])]
        for job, _worker, _lease, attempts in stale:
            if attempts >= MAX_ATTEMPTS:
                db.execute(
                    "UPDATE jobs SET state = 'failed', lease_until = NULL, updated = ?,"
                    " error = ? WHERE id = ?",
                    (now, f"its worker vanished {attempts} times mid-run (killed?)", job),
                )
            else:
                db.execute(
                    "UPDATE jobs SET state = 'pending', worker = NULL, lease_until = NULL,"
                    " updated = ? WHERE id = ?",
                    (now, job),
                )
        return len(stale)

    def counts(self, spec: str | None = None) -> dict[str, dict[JobState, int]]:
        """Jobs per state, per spec (specs in the order they were first queued)."""
        rows = self._db.execute(
            "SELECT spec, state, COUNT(*) FROM jobs"
            + (" WHERE spec = ?" if spec is not None else "")
            + " GROUP BY spec, state ORDER BY MIN(id)",
            (spec,) if spec is not None else (),
        ).fetchall()
        counts: dict[str, dict[JobState, int]] = {}
        for name, state, count in rows:
            counts.setdefault(name, dict.fromkeys(JobState, 0))[JobState(state)] = count
        return counts

    def spec_counts(self, spec: str) -> dict[JobState, int]:
        return self.counts(spec).get(spec, dict.fromkeys(JobState, 0))

    def jobs(self, spec: str | None = None) -> list[JobRecord]:
        """Every job (of ``spec``) in queue order, with its state, worker and attempts."""
        rows = self._db.execute(
            "SELECT id, spec, state, attempts, worker, run_key, skipped, wandb_run,"
            " wandb_abandoned FROM jobs"
            + (" WHERE spec = ?" if spec is not None else "")
            + " ORDER BY id",
            (spec,) if spec is not None else (),
        ).fetchall()
        return [
            JobRecord(
                job,
                name,
                JobState(state),
                attempts,
                worker,
                run_key,
                None if skipped is None else bool(skipped),
                wandb_run,
                tuple((abandoned or "").split()),
            )
            for job, name, state, attempts, worker, run_key, skipped, wandb_run, abandoned in rows
        ]

    def failures(self, spec: str, limit: int = 20) -> list[Failure]:
        rows = self._db.execute(
            "SELECT config, error FROM jobs WHERE spec = ? AND state = 'failed' ORDER BY id"
            " LIMIT ?",
            (spec, limit),
        ).fetchall()
        return [Failure(RunConfig.from_stored(config), error) for config, error in rows]

    def _update(self, query: str, values: tuple[object, ...]) -> bool:
        return self._count(query, values) > 0

    def _count(self, query: str, values: tuple[object, ...]) -> int:
        with self._write() as db:
            return db.execute(query, values).rowcount
