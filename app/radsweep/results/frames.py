"""The three result tables as pandas frames: what exports write and reports read.

A results store and a W&B project both become ``ResultFrames``, so everything downstream works the
same whichever source the numbers came from.
"""

from dataclasses import dataclass

import pandas as pd

from radsweep.results.store import ResultsStore


def labelled_scoring(frame: pd.DataFrame) -> pd.DataFrame:
    """Runs stored before held-out scoring have no ``scoring``: they are validation-scored."""
    column = frame["scoring"] if "scoring" in frame else pd.Series(None, index=frame.index)
    return frame.assign(scoring=column.fillna("validation").astype(str))


@dataclass(frozen=True)
class ResultFrames:
    """``runs`` (one row per run), ``seed_metrics`` (per run, stage, seed, with the config
    columns), ``curves`` (per run, stage, seed, epoch); ``source`` says where they came from."""

    runs: pd.DataFrame
    seed_metrics: pd.DataFrame
    curves: pd.DataFrame
    source: str

    @classmethod
    def from_store(cls, store: ResultsStore) -> "ResultFrames":
        source = f"results store {store.path}"
        runs, seeds = (labelled_scoring(frame) for frame in (store.runs(), store.seed_metrics()))
        return cls(runs, seeds, store.curves(), source)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by the file names exports use."""
        return {"runs": self.runs, "seed_metrics": self.seed_metrics, "curves": self.curves}
