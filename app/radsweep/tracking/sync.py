"""``radsweep sync``: upload offline runs with W&B's own ``wandb sync``, then give each stored run
its feature-cache lineage and record its URL in the results store.

An offline run cannot declare inputs (W&B refuses ``use_artifact`` offline), so the writer puts
each cache's digest in the run's config instead. Once uploaded, a run that trained a stored result
is resumed (``wandb.init(resume="must")``, the supported way to add to a finished run) to declare
the same reference artifacts an online run declares (``writer.feature_artifact``), and its URL goes
to the store. Replays of a stored configuration read no cache and get no lineage. Each step leaves
a mark (W&B's ``.synced`` file, radsweep's lineage file, the store's URL), so a second sync does
nothing.
"""

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from radsweep.atomic import write_text_atomic
from radsweep.errors import SweepError
from radsweep.results.store import ResultsStore
from radsweep.settings import Settings
from radsweep.tracking import schema
from radsweep.tracking.folders import (
    LINEAGE_FILE,
    folder_run_id,
    offline_folders,
    uploaded,
)
from radsweep.tracking.server import require_server
from radsweep.tracking.session import finish_timeout, init_timeout

UPLOAD_TIMEOUT_SECONDS = 3600.0
"""How long ``wandb sync`` may upload (a study's offline runs hold curves, tables, heads)."""


@dataclass
class SyncReport:
    """What one ``radsweep sync`` did: folders uploaded, runs given lineage, store rows linked;
    ``already``: folders with nothing left to do."""

    uploaded: list[str] = field(default_factory=list)
    linked: dict[str, str] = field(default_factory=dict)
    stored_urls: int = 0
    already: int = 0

    @property
    def nothing_done(self) -> bool:
        return not (self.uploaded or self.linked or self.stored_urls)


def sync_offline(
    settings: Settings, store_path: Path, *, project: str, entity: str | None
) -> SyncReport:
    """Upload every offline run under radsweep's W&B folder that is not uploaded yet, attach
    lineage to the stored runs among them and record their URLs in the store at ``store_path``
    (if there is one)."""
    require_server("radsweep sync")
    store = ResultsStore(store_path) if store_path.is_file() else None
    folders = offline_folders(settings.wandb)
    report = SyncReport()
    pending = [folder for folder in folders if not uploaded(folder)]
    if pending:
        upload(pending, project=project, entity=entity)
        report.uploaded = [folder_run_id(folder) for folder in pending]
    trained = store.wandb_run_ids() if store is not None else set()
    for run_id, folder in _by_run(folders).items():
        lineage = folder / LINEAGE_FILE
        if run_id in trained and not lineage.is_file():
            url = attach_lineage(run_id, settings, project=project, entity=entity)
            write_text_atomic(lineage, json.dumps({"url": url}))
            report.linked[run_id] = url
        if store is not None and lineage.is_file():
            url = json.loads(lineage.read_text(encoding="utf-8"))["url"]
            report.stored_urls += store.set_wandb_url(run_id, url)
    report.already = len(folders) - len(pending)
    return report


def _by_run(folders: Sequence[Path]) -> dict[str, Path]:
    """One folder per run id (a run logged in several attempts has one per attempt): the first,
    where radsweep keeps the run's lineage mark."""
    found: dict[str, Path] = {}
    for folder in folders:
        found.setdefault(folder_run_id(folder), folder)
    return found


def upload(folders: Sequence[Path], *, project: str, entity: str | None) -> None:
    """``wandb sync`` (W&B's own command, in this interpreter) on ``folders``; one error line if
    a folder is left without W&B's mark of a finished upload."""
    command = [sys.executable, "-m", "wandb", "sync", "--project", project]
    command += ["--entity", entity] if entity else []
    try:
        done = subprocess.run(
            [*command, *map(str, folders)],
            capture_output=True,
            text=True,
            timeout=UPLOAD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise SweepError(
            f"wandb sync did not finish within {UPLOAD_TIMEOUT_SECONDS:g} s",
            hint="check the W&B server, then run radsweep sync again (it resumes)",
        ) from error
    if left := [folder for folder in folders if not uploaded(folder)]:
        lines = (done.stderr or done.stdout).strip().splitlines()
        reason = lines[-1].removeprefix("wandb: ").strip() if lines else f"exit {done.returncode}"
        raise SweepError(
            f"wandb sync did not upload {left[0]} ({reason})",
            hint="check `wandb login` and the server, then run radsweep sync again",
        )


def attach_lineage(run_id: str, settings: Settings, *, project: str, entity: str | None) -> str:
    """Resume the uploaded run ``run_id`` to declare the feature caches it trained on (from the
    digests in its config) as inputs; the run's URL."""
    import wandb

    from radsweep.tracking.writer import feature_artifact

    wandb_settings = wandb.Settings(
        silent=True, init_timeout=init_timeout(), finish_timeout=finish_timeout()
    )
    try:
        run = wandb.init(
            id=run_id,
            project=project,
            entity=entity,
            resume="must",
            mode="online",
            dir=str(settings.wandb),
            settings=wandb_settings,
        )
    except (wandb.errors.CommError, wandb.errors.UsageError) as error:
        reason = " ".join(str(error).split()[:12])
        raise SweepError(
            f"cannot reopen uploaded W&B run {run_id} in project {project}: {reason}",
            hint="pass the project the runs were logged to (--project, --entity)",
        ) from error
    try:
        caches = run.config.get(schema.FEATURE_CACHES) or {}
        for key, digest in sorted(caches.items()):
            run.use_artifact(feature_artifact(settings.cache, key, digest))
        url = str(run.url)
    finally:
        run.finish()
    return url
