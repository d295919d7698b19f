"""The report's statement of what it was built from: the run set, its runs, the hyperparameters
held fixed, and the stored runs it left out with the reason for each."""

import pandas as pd

from radsweep import __version__
from radsweep.reports.section import Section
from radsweep.results.runset import Selection


def provenance_section(selection: Selection) -> Section:
    """One table: run set, run count, data digest per task, each fixed hyperparameter, version.
    No machine paths: the page is shared beyond the machine that drew it."""
    rows = [
        ("run set", selection.run_set.name),
        ("runs drawn", str(len(selection.frames.runs))),
        *((f"data of {task}", digest) for task, digest in sorted(selection.digests.items())),
        *selection.fixed.items(),
        ("radsweep", __version__),
    ]
    table = pd.DataFrame(rows, columns=["setting", "value"])
    caption = (
        "Every figure and table below, the findings included, draws exactly these runs. "
        "Data is the digest of each task's task.json and manifest: two benchmarks that share "
        "a task name never mix."
    )
    return Section("provenance", "What this report is built from", caption, table, table=table)


def excluded_section(selection: Selection) -> Section | None:
    """The runs on the set's grid that were not drawn (other hyperparameters or other data)."""
    if not selection.excluded:
        return None
    table = pd.DataFrame(
        [(run.run_key[:8], run.task, run.method, run.reason) for run in selection.excluded],
        columns=["run", "task", "method", "why it is left out"],
    )
    caption = (
        "Stored runs at grid points of this set that no figure draws: a report never puts runs "
        "of other settings or other data beside the set's. Report them on their own with "
        "radsweep report --task/--where."
    )
    return Section("left-out", "Runs left out", caption, table, table=table)
