"""The CLI's error boundary: every failure becomes one line, and an exit code that says whose it is.

Exit 2: something the user can fix (bad input, a damaged or unwritable file, a full disk), with
the file and the fix named. Exit 1: radsweep's own fault, with where to report it. Exit 130: an
interrupt. ``--debug`` re-raises instead, for the traceback.
"""

import errno
import sqlite3
from dataclasses import dataclass
from importlib import metadata

from pydantic import ValidationError

from radsweep.errors import RadsweepError

USER_ERROR = 2
INTERNAL_ERROR = 1
INTERRUPTED = 130

_OS_HINTS = {
    errno.ENOSPC: "free some space on that disk, or point --home (or the folder's flag) elsewhere",
    errno.EDQUOT: "free some space on that disk, or point --home (or the folder's flag) elsewhere",
    errno.EACCES: "check its permissions, or point --home (or the folder's flag) elsewhere",
    errno.EPERM: "check its permissions, or point --home (or the folder's flag) elsewhere",
    errno.EROFS: "that file system is read-only: point --home (or the folder's flag) elsewhere",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a file stands where a folder is needed: choose another path",
    errno.EISDIR: "a folder stands where a file is needed: choose another path",
    errno.EEXIST: "choose another path, or remove what is there",
    errno.EIO: "the disk reported a read/write error: check the device, then run again",
}


_OUR_SQL_FAULTS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)


@dataclass(frozen=True)
class Failure:
    """What the boundary prints and returns."""

    message: str
    code: int


def issue_tracker() -> str:
    """The project's issue tracker from its package metadata (``[project.urls] Issues``)."""
    try:
        urls = metadata.metadata("radsweep").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in {"issues", "bug tracker", "tracker"}:
            return url.strip()
    return "radsweep's issue tracker"


def _pydantic(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"invalid {where}: {first['msg']} — see --help"


def _os(error: OSError) -> str:
    what = error.strerror or str(error) or type(error).__name__
    where = f": {error.filename}" if error.filename else ""
    if error.filename2:
        where += f" -> {error.filename2}"
    hint = _OS_HINTS.get(error.errno or 0, "check the file and run again")
    return f"{what}{where} — {hint}"


def _internal(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "(no message)"
    return (
        f"internal error: {type(error).__name__}: {text} — this is a bug in radsweep: please "
        f"report it at {issue_tracker()} with the output of the same command run with --debug"
    )


def describe(error: BaseException) -> Failure:
    """The one line and exit code for ``error``: the user's fix, or radsweep's bug."""
    if isinstance(error, RadsweepError):
        return Failure(error.one_line(), USER_ERROR)
    if isinstance(error, ValidationError):
        return Failure(_pydantic(error), USER_ERROR)
    if isinstance(error, KeyboardInterrupt):
        return Failure("interrupted — run the same command again to resume", INTERRUPTED)
    if isinstance(error, OSError):
        return Failure(_os(error), USER_ERROR)
    if isinstance(error, MemoryError):
        hint = "use fewer seeds, a smaller --batch-size or a larger machine"
        return Failure(f"out of memory — {hint}", USER_ERROR)
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, _OUR_SQL_FAULTS):
        hint = "the database is damaged or locked: run with --debug to see which, or restore it"
        return Failure(f"SQLite: {error} — {hint}", USER_ERROR)
    if isinstance(error, UnicodeDecodeError):
        hint = "a text file radsweep reads is not UTF-8: run with --debug to see which"
        return Failure(f"cannot decode text ({error.reason}) — {hint}", USER_ERROR)
    return Failure(_internal(error), INTERNAL_ERROR)
