"""``radsweep dashboard SPEC``: the spec's grid and its stored findings, saved as a W&B report
and workspace view (``radsweep.tracking.dashboard`` builds and saves them)."""

from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pandas as pd

from radsweep.errors import RadsweepError
from radsweep.reports.findings import findings_section
from radsweep.results.frames import ResultFrames
from radsweep.results.runset import select
from radsweep.results.store import ResultsStore
from radsweep.settings import Settings
from radsweep.sweeps.remote import DEFAULT_PROJECT, DEFAULT_TIMEOUT_SECONDS
from radsweep.sweeps.runset import spec_run_set
from radsweep.sweeps.spec import load_and_expand
from radsweep.tracking.dashboard import (
    Dashboard,
    DashboardPlan,
    save_dashboard,
    spec_groups,
)
from radsweep.tracking.server import require_server
from radsweep.watchdog import attempt

NO_RUNS = (
    "No stored runs of this spec yet: the panels below fill as its runs arrive; run "
    "`radsweep dashboard {spec}` again after the sweep to add the paired findings."
)


def publish_dashboard(
    spec: str | Path,
    settings: Settings,
    store_path: Path,
    *,
    project: str | None = None,
    entity: str | None = None,
    sweep_ids: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Dashboard:
    """Save the dashboard of ``spec``: its panels on the runs of its W&B groups (the spec's
    name, and ``SPEC/SWEEP_ID`` for the sweeps the store saw and those in ``sweep_ids``)."""
    require_server("radsweep dashboard")
    loaded, configs = load_and_expand(spec, settings.data)
    frames = _stored_frames(store_path)
    sweeps, findings = _stored_findings(frames, spec, settings, store_path)
    plan = DashboardPlan(
        spec=loaded.name,
        project=project or str(loaded.config.get("project") or DEFAULT_PROJECT),
        entity=entity or loaded.config.get("entity"),
        groups=spec_groups(loaded.name, [*sweeps, *sweep_ids]),
        methods=tuple(dict.fromkeys(config.method.value for config in configs)),
        backbones=tuple(dict.fromkeys(config.backbone or "text-only" for config in configs)),
        seed=min(seed for config in configs for seed in config.seeds),
        findings=findings or NO_RUNS.format(spec=loaded.name),
        distils=any(config.method.distils for config in configs),
    )
    done = attempt(lambda: save_dashboard(plan), timeout, "wandb-dashboard")
    if not done.finished:
        raise RadsweepError(
            f"W&B did not answer within {timeout:g} s while saving the dashboard",
            hint="check the server (radsweep doctor) and try again",
        )
    if isinstance(done.error, RadsweepError):
        raise done.error
    if done.error is not None:
        reason = " ".join(str(done.error).split()) or type(done.error).__name__
        raise RadsweepError(
            f"W&B failed while saving the dashboard: {reason}",
            hint="check `wandb login` and the project name (--project, --entity)",
        ) from done.error
    return cast(Dashboard, done.value)  # finished without error: the call's value


def _stored_frames(store_path: Path) -> ResultFrames | None:
    if not store_path.is_file():
        return None
    return ResultFrames.from_store(ResultsStore.open_existing(store_path))


def _stored_findings(
    frames: ResultFrames | None, spec: str | Path, settings: Settings, store_path: Path
) -> tuple[list[str], str]:
    """The W&B sweeps the spec's stored runs came from, and their paired findings as markdown
    (empty without stored runs)."""
    if frames is None or frames.runs.empty:
        return [], ""
    selection = select(frames, spec_run_set(spec, settings.data))
    if not selection.keys:
        return [], ""
    sweeps = selection.frames.runs.get("wandb_sweep_id", pd.Series(dtype=object))
    section = findings_section(selection.frames.seed_metrics)
    table = section.table if section.table is not None else pd.DataFrame()
    shown = (
        markdown_table(table) if not table.empty else f"Nothing to pair yet: {section.missing[0]}."
    )
    lines = [shown]
    lines += ["", section.caption, "", f"Computed from the results store {store_path}."]
    return sorted({str(s) for s in sweeps.dropna()}), "\n".join(lines)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured markdown table (cells as their text)."""
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(str(value) for value in row) + " |" for row in table.to_numpy()]
    return "\n".join([header, rule, *rows])
