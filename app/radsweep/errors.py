"""User-facing errors: the CLI prints them as one line and exits with code 2."""

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"did you mean NAME? "`` for the known name closest to a mistyped one, else ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


class RadsweepError(Exception):
    """A problem the user can fix: bad input, a missing file, a wrong option.

    The message says what is wrong and where; ``hint`` says how to fix it.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def one_line(self) -> str:
        """The message and its hint on a single line, as the CLI prints it."""
        text = " ".join(str(self).split())
        return f"{text} — {self.hint}" if self.hint else text


class ManifestError(RadsweepError):
    """A manifest or task.json that breaks the manifest contract."""


class SplitError(RadsweepError):
    """A split that cannot be drawn from the manifest as given."""


class TrainingError(RadsweepError):
    """Training inputs or hyperparameters that cannot give a meaningful model."""


class WeightsError(RadsweepError):
    """Encoder weights that cannot be found, read, or fitted to the encoder's architecture."""


class FeatureCacheError(RadsweepError):
    """A feature cache that is missing, incomplete, corrupted, or cannot be built as asked."""


class SweepError(RadsweepError):
    """A sweep spec that cannot run as written, or a sweep service (W&B, the queue) out of reach."""


class StoreError(RadsweepError):
    """A SQLite file of radsweep's (results store, job queue) that is damaged or out of reach."""


def sqlite_hint(error: Exception) -> str:
    """How to fix what SQLite reported, read from its message (stable across SQLite versions)."""
    text = str(error).lower()
    if "not a database" in text or "malformed" in text or "no such table" in text:
        return "the file is damaged or not radsweep's: restore it, or move it aside and run again"
    if "readonly" in text or "unable to open" in text:
        return "check the file's and its folder's permissions, or pass another path"
    if "locked" in text or "busy" in text:
        return "another process holds it: wait for it to finish, then run again"
    if "full" in text:
        return "free some space on that disk, then run again"
    return "check the file, then run again"


class HeadError(RadsweepError):
    """A trained head that is missing, unreadable, or does not fit the features it is given."""
