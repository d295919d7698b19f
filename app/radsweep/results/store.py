"""The results store: every finished run's config, per-seed metrics and curves, in SQLite.

One file that several worker processes (or containers sharing a volume) write at once: WAL mode
lets readers run beside the single writer, a busy timeout makes writers wait their turn, and each
run is written in one ``BEGIN IMMEDIATE`` transaction keyed by its run key, so a run is either
fully there or absent, and recording a key twice (two workers racing) stores it once.

The store holds a run's configuration as data: its canonical JSON, and one column per field
(typed from the config model's annotations) that a record adds when it first sees the field. It
imports nothing of ``runs/`` (which writes to it): readers learn the config columns from the file,
and code that needs a ``RunConfig`` back rebuilds it from the JSON above this layer.

It also keeps distillation teachers (``teachers``: one row per teacher key, the record as one
``.npz`` blob), so the runs of a grid over τ and λ, of other specs, and of a screen train each
teacher once. They live here rather than as files beside the feature caches because a teacher
is a training result like a run: the same writers produce it, the same folder (shared by
workers and boxes) holds it, and SQLite's transactions already make a racing second writer a
no-op and a half-written record impossible, with no lock files of their own. A teacher's key
includes the cache keys it read, so it is never used with caches it was not computed from;
``drop_teachers`` frees the space of those whose caches are gone.
"""

import json
import sqlite3
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import pandas as pd
from pydantic import BaseModel

from radsweep.errors import RadsweepError, StoreError, sqlite_hint
from radsweep.results.rows import curve_rows, seed_rows
from radsweep.settings import Settings
from radsweep.tasks.spec import Scoring

if TYPE_CHECKING:
    from radsweep.training.results import FitResult
    from radsweep.training.teacher import TeacherRecord

STORE_NAME = "results.sqlite"
SCHEMA_VERSION = 2
"""2: a held-out run's best-epoch metrics are read at the epoch its selection rows chose, and
``seed_metrics.selection_auc`` keeps its final AUC on those rows. Files of version 1 read the
best where the test rows peaked; which epoch was chosen was not kept, so those metrics are
cleared (NULL) when such a file is opened for writing, and read as missing before."""
_BEST_AT_CHOSEN_EPOCH = 2  # the version from which held-out best metrics can be trusted
_PEEKED_BEST = ("best_auc", "best_auprc", "best_epoch")
BUSY_TIMEOUT_SECONDS = 60.0
_OUR_FAULT = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)
"""SQLite errors that mean radsweep wrote a bad statement or row: a bug, not a damaged file."""


def default_store_path(settings: Settings) -> Path:
    """``RESULTS/results.sqlite``: where runs record and reports read by default."""
    return settings.results / STORE_NAME


class StoredConfig(Protocol):
    """What the store needs of a run's configuration (``runs.config.RunConfig`` is one): a
    pydantic model, whose field types give the column types, with one canonical JSON text."""

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...

    def canonical(self) -> str: ...


def _sql_type(annotation: Any) -> str:
    """SQLite column type of a config field (optional types by their non-None part)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    if annotation in (int, bool):
        return "INTEGER"
    return "REAL" if annotation is float else "TEXT"  # text, enums, and JSON for tuples


def _model_type(config: StoredConfig) -> type[BaseModel]:
    """The config's pydantic class: its fields are read from the class (pydantic deprecates
    reading them from an instance), which a Protocol attribute cannot express."""
    return cast("type[BaseModel]", type(config))


def config_columns(config: StoredConfig) -> dict[str, str]:
    """The config's fields flattened into columns of ``runs`` (name: SQL type), so reports can
    filter in SQL/pandas."""
    return {
        name: _sql_type(field.annotation)
        for name, field in _model_type(config).model_fields.items()
    }


_HEAD_COLUMNS = {"run_key": "TEXT PRIMARY KEY", "created_at": "TEXT NOT NULL"}
_TAIL_COLUMNS = {
    "config": "TEXT NOT NULL",
    "train_config": "TEXT NOT NULL",
    "cache_keys": "TEXT NOT NULL",
    "meta": "TEXT NOT NULL",
    "wandb_run_id": "TEXT",
    "wandb_url": "TEXT",
    "wandb_sweep_id": "TEXT",
}
_RUN_COLUMNS = _HEAD_COLUMNS | _TAIL_COLUMNS
_SEED_TABLE = """
CREATE TABLE IF NOT EXISTS seed_metrics (
    run_key TEXT NOT NULL REFERENCES runs(run_key),
    stage TEXT NOT NULL, seed INTEGER NOT NULL, n_train INTEGER, n_validation INTEGER,
    final_auc REAL, final_auprc REAL, best_auc REAL, best_auprc REAL, best_epoch INTEGER,
    selection_auc REAL,
    PRIMARY KEY (run_key, stage, seed)
)"""
_CURVE_TABLE = """
CREATE TABLE IF NOT EXISTS curves (
    run_key TEXT NOT NULL REFERENCES runs(run_key),
    stage TEXT NOT NULL, seed INTEGER NOT NULL, epoch INTEGER NOT NULL,
    auc REAL, auprc REAL, loss REAL,
    PRIMARY KEY (run_key, stage, seed, epoch)
)"""
_TEACHER_TABLE = """
CREATE TABLE IF NOT EXISTS teachers (
    teacher_key TEXT PRIMARY KEY, created_at TEXT NOT NULL, identity TEXT NOT NULL,
    cache_keys TEXT NOT NULL, record BLOB NOT NULL
)"""
_SEED_ADDED = {"selection_auc": "REAL"}
"""Columns of ``seed_metrics`` newer than the table: a file that lacks them gains them."""
_FLOATS = {
    "selection_auc",
    "final_auc",
    "final_auprc",
    "best_auc",
    "best_auprc",
    "auc",
    "auprc",
    "loss",
}


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _config_values(config: StoredConfig) -> dict[str, Any]:
    values = {}
    for name, value in config.model_dump(mode="json").items():
        if isinstance(value, list | dict):
            value = json.dumps(value)
        values[name] = int(value) if isinstance(value, bool) else value
    return values


class ResultsStore:
    """Finished runs, idempotent by run key. Safe to share between processes; open per call."""

    def __init__(
        self, path: Path, timeout: float = BUSY_TIMEOUT_SECONDS, *, read_only: bool = False
    ) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.read_only = read_only
        self.version = SCHEMA_VERSION  # a writer brings the file up to it on opening
        if read_only:
            self.version = self._check_readable()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            connection.execute("PRAGMA journal_mode = WAL")
            self._create_schema(connection)

    @classmethod
    def open_existing(cls, path: Path) -> "ResultsStore":
        """A store that must already exist, opened read-only: readers (``results ls``, reports)
        neither create an empty store by mistake nor write to one they may only read."""
        if not Path(path).is_file():
            raise RadsweepError(
                f"no results store at {path}",
                hint="run a sweep first (radsweep sweep local ...) or pass the database's path",
            )
        return cls(path, read_only=True)

    def _check_readable(self) -> int:
        """The file's schema version, once it is known to be a results store."""
        with self._connection() as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if missing := {"runs", "seed_metrics", "curves"} - tables:
            raise StoreError(
                f"{self.path} is not a radsweep results store (no {', '.join(sorted(missing))})",
                hint="pass the results database's path (RESULTS/results.sqlite)",
            )
        return version

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection (read-only by URI for readers); SQLite's failures name this file."""
        try:
            if self.read_only:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                connection = sqlite3.connect(uri, timeout=self.timeout, uri=True)
            else:
                connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            try:
                connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
                connection.execute("PRAGMA foreign_keys = ON")
                yield connection
            finally:
                connection.close()
        except sqlite3.DatabaseError as error:
            if isinstance(error, _OUR_FAULT):
                raise
            raise StoreError(
                f"results store {self.path}: {error}", hint=sqlite_hint(error)
            ) from error

    @contextmanager
    def _transaction(self, connection: sqlite3.Connection) -> Iterator[None]:
        """``BEGIN IMMEDIATE``: take the write lock first, so check-then-insert cannot race."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _create_schema(self, connection: sqlite3.Connection) -> None:
        """Create the tables (config columns come with the first record of each field) and
        bring an older file's rows up to this version."""
        with self._transaction(connection):
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            columns = ", ".join(f'"{name}" {kind}' for name, kind in _RUN_COLUMNS.items())
            connection.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
            connection.execute(_SEED_TABLE)
            connection.execute(_CURVE_TABLE)
            connection.execute(_TEACHER_TABLE)
            self._add_columns(connection, _RUN_COLUMNS)
            self._add_columns(connection, _SEED_ADDED, table="seed_metrics")
            if version < _BEST_AT_CHOSEN_EPOCH and "scoring" in self._config_columns(connection):
                cleared = ", ".join(f"{name} = NULL" for name in _PEEKED_BEST)
                connection.execute(
                    f"UPDATE seed_metrics SET {cleared} WHERE run_key IN "
                    "(SELECT run_key FROM runs WHERE scoring = ?)",
                    (Scoring.HELD_OUT.value,),
                )
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @staticmethod
    def _add_columns(
        connection: sqlite3.Connection, columns: dict[str, str], table: str = "runs"
    ) -> None:
        """Add the columns ``table`` lacks: fields a newer config (or version) brought, in
        older files."""
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in present:
                connection.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')

    def _config_columns(self, connection: sqlite3.Connection) -> dict[str, str]:
        """The config columns this file holds (name: SQL type), in the order they were added."""
        return {
            row[1]: row[2]
            for row in connection.execute("PRAGMA table_info(runs)")
            if row[1] not in _RUN_COLUMNS
        }

    def config_columns(self) -> list[str]:
        """The names of the config columns that runs recorded in this file."""
        with self._connection() as connection:
            return list(self._config_columns(connection))

    def has(self, run_key: str) -> bool:
        with self._connection() as connection:
            found = connection.execute("SELECT 1 FROM runs WHERE run_key = ?", (run_key,))
            return found.fetchone() is not None

    def record(
        self,
        run_key: str,
        config: StoredConfig,
        result: "FitResult",
        cache_keys: Sequence[str],
        meta: dict[str, Any] | None = None,
    ) -> bool:
        """Write a finished run in one transaction; False (and nothing written) if the key exists.

        ``meta`` holds what is not configuration: duration, device, missing samples, W&B run id.
        The config's fields become columns (added in the same transaction when new to the file).
        """
        run = {
            "run_key": run_key,
            "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            **_config_values(config),
            "config": config.canonical(),
            "train_config": result.config.model_dump_json(),
            "cache_keys": json.dumps(sorted(cache_keys)),
            "meta": json.dumps(meta or {}, sort_keys=True, default=str),
        }
        seeds = [{"run_key": run_key, **row} for row in seed_rows(result)]
        curves = [{"run_key": run_key, **row} for row in curve_rows(result)]
        with self._connection() as connection, self._transaction(connection):
            self._add_columns(connection, config_columns(config))
            if self._insert(connection, "runs", [run], "OR IGNORE") == 0:
                return False
            self._insert(connection, "seed_metrics", seeds)
            self._insert(connection, "curves", curves)
        return True

    def record_teacher(
        self, key: str, identity: str, cache_keys: Sequence[str], record: "TeacherRecord"
    ) -> bool:
        """Keep a trained teacher under ``key``; False (and nothing written) if the key exists.
        ``identity`` is the configuration text it was trained for, kept for people and pruning."""
        row = {
            "teacher_key": key,
            "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "identity": identity,
            "cache_keys": json.dumps(sorted(cache_keys)),
            "record": record.to_bytes(),
        }
        with self._connection() as connection, self._transaction(connection):
            return self._insert(connection, "teachers", [row], "OR IGNORE") == 1

    def teacher(self, key: str) -> "TeacherRecord | None":
        """The teacher kept under ``key``, or None."""
        from radsweep.training.teacher import TeacherRecord  # loads torch: only when read

        with self._connection() as connection:
            found = connection.execute(
                "SELECT record FROM teachers WHERE teacher_key = ?", (key,)
            ).fetchone()
        return None if found is None else TeacherRecord.from_bytes(found[0])

    def teachers(self) -> pd.DataFrame:
        """One row per kept teacher: key, time, identity, cache keys (JSON) and size in bytes
        (none in a file written before teachers were kept, opened read-only)."""
        with self._connection() as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        columns = ["teacher_key", "created_at", "identity", "cache_keys", "bytes"]
        if "teachers" not in tables:
            return pd.DataFrame(columns=columns)
        return self._read(
            lambda _: (
                "SELECT teacher_key, created_at, identity, cache_keys, "
                "length(record) AS bytes FROM teachers ORDER BY created_at"
            )
        )

    def drop_teachers(self, keys: Sequence[str]) -> int:
        """Remove these teachers (runs never need them again once stored); how many went."""
        with self._connection() as connection, self._transaction(connection):
            cursor = connection.executemany(
                "DELETE FROM teachers WHERE teacher_key = ?", [(key,) for key in keys]
            )
            return cursor.rowcount

    def set_wandb(self, run_key: str, run_id: str, url: str | None, sweep_id: str | None) -> None:
        """Link a stored run to the W&B run that logged it; the first link stays (a cached replay
        in another sweep does not move it off the run that trained it)."""
        with self._connection() as connection, self._transaction(connection):
            connection.execute(
                "UPDATE runs SET wandb_run_id = ?, wandb_url = ?, wandb_sweep_id = ? "
                "WHERE run_key = ? AND wandb_run_id IS NULL",
                (run_id, url, sweep_id, run_key),
            )

    def set_wandb_url(self, run_id: str, url: str) -> int:
        """Give the runs logged by W&B run ``run_id`` (offline, so without a URL) the URL it has
        once uploaded; the number of runs that gained one (0 when they had it already)."""
        with self._connection() as connection, self._transaction(connection):
            cursor = connection.execute(
                "UPDATE runs SET wandb_url = ? WHERE wandb_run_id = ? AND wandb_url IS NULL",
                (url, run_id),
            )
            return cursor.rowcount

    def wandb_run_ids(self) -> set[str]:
        """The W&B runs that logged a stored run (the run that trained it, not its replays)."""
        with self._connection() as connection:
            found = connection.execute(
                "SELECT wandb_run_id FROM runs WHERE wandb_run_id IS NOT NULL"
            )
            return {row[0] for row in found}

    def _insert(
        self,
        connection: sqlite3.Connection,
        table: str,
        rows: list[dict[str, Any]],
        conflict: str = "",
    ) -> int:
        """Insert rows (all with the same keys); the number inserted (0: ignored as existing)."""
        names = list(rows[0])
        placeholders = ", ".join("?" * len(names))
        cursor = connection.executemany(
            f"INSERT {conflict} INTO {table} ({_quoted(names)}) VALUES ({placeholders})",
            [tuple(row[name] for name in names) for row in rows],
        )
        return cursor.rowcount

    def _read(
        self, query: Callable[[list[str]], str], parameters: Sequence[Any] = ()
    ) -> pd.DataFrame:
        """Run ``query(config column names)``; float columns (config ones by their SQL type)
        come back as floats even when every value is NULL or integral."""
        with self._connection() as connection:
            config = self._config_columns(connection)
            text = query(list(config))
            frame = pd.read_sql_query(text, connection, params=tuple(parameters))
        floats = _FLOATS | {name for name, kind in config.items() if kind == "REAL"}
        for column in floats & set(frame.columns):
            frame[column] = frame[column].astype(float)
        return frame

    def runs(self) -> pd.DataFrame:
        """One row per run: key, time, config columns, canonical config JSON, cache keys, meta."""
        return self._read(
            lambda config: (
                f"SELECT {_quoted([*_HEAD_COLUMNS, *config, *_TAIL_COLUMNS])} "
                "FROM runs ORDER BY created_at"
            )
        )

    def seed_metrics(self, run_key: str | None = None) -> pd.DataFrame:
        """One row per (run, stage, seed), joined with the run's time and config columns (a
        version-1 file's held-out runs without best-epoch metrics, as ``SCHEMA_VERSION`` says)."""
        where, parameters = ("WHERE s.run_key = ?", (run_key,)) if run_key else ("", ())
        frame = self._read(
            lambda config: (
                "SELECT s.*, "
                + ", ".join(f'r."{name}"' for name in ["created_at", *config])
                + f" FROM seed_metrics s JOIN runs r USING (run_key) {where} "
                "ORDER BY r.created_at, s.run_key, s.stage, s.seed"
            ),
            parameters,
        )
        for name in set(_SEED_ADDED) - set(frame.columns):  # an older file, opened to read
            frame[name] = float("nan")
        if self.version < _BEST_AT_CHOSEN_EPOCH and "scoring" in frame.columns:
            peeked = frame["scoring"] == Scoring.HELD_OUT.value
            best = list(_PEEKED_BEST)
            frame[best] = frame[best].astype(float).mask(peeked)
        return frame

    def curves(self, run_key: str | None = None) -> pd.DataFrame:
        """Per-epoch rows: run_key, stage, seed, epoch (from 1), auc, auprc, loss."""
        where, parameters = ("WHERE run_key = ?", (run_key,)) if run_key else ("", ())
        return self._read(
            lambda _: f"SELECT * FROM curves {where} ORDER BY run_key, stage, seed, epoch",
            parameters,
        )
