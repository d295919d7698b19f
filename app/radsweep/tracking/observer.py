"""The W&B observer of the one pipeline (``radsweep.runs.execute``): one configuration, one run.

It opens the run when the pipeline starts (before features, so a preemption in any phase marks
it), logs each epoch as training finishes it (live curves; W&B's hyperband reads them), then the
stored rows' summary, table and artifacts once the store holds the run; a configuration the store
already held replays its stored curves, tagged ``cached``, and a distillation whose teacher the
store held (another run of its grid trained it) logs that teacher's stored epochs, tagged
``cached-teacher``. The store records a run before W&B logs it, so a W&B failure loses no
result; the store then links the run key to the W&B run.

How a run ends, in W&B's terms: stored (exit 0); stopped by the server (hyperband, Stop in the
app: exit 0, tagged ``stopped``, never queued again, nothing stored); preempted by the machine
(marked preempting, exit 143: the sweep queues the configuration again); failed (exit 1).
"""

import threading
from collections.abc import Callable
from typing import Any

from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig
from radsweep.runs.heads import CARD_FILE, heads_folder
from radsweep.runs.interrupts import Preempted
from radsweep.runs.observer import RunObserver
from radsweep.runs.outcome import RunOutcome
from radsweep.settings import Settings
from radsweep.tasks.identity import task_digest
from radsweep.tasks.registry import find_task_directory
from radsweep.tracking import schema
from radsweep.tracking.server import stopped_by_agent
from radsweep.tracking.session import PREEMPTED_EXIT_CODE, finish, run_url, start_run
from radsweep.tracking.writer import define_metrics, log_heads, log_stored, stored_run
from radsweep.training.engine import EpochEvent
from radsweep.watchdog import attempt

MARK_SECONDS = 5.0  # a preempted machine has seconds left; the run's thread marks it too


class StopCommand(Exception):
    """The server stopped the run (W&B called the run's stop function): ends it at its next
    epoch, as stopped."""


class WandbObserver(RunObserver):
    """Logs one pipeline run to W&B (online, offline, or offline after a failed online start).

    ``group`` is the spec's name; ``sweep_id`` the W&B sweep the run belongs to, if any;
    ``server_stopped`` answers whether the sweep's server stopped this run (for a SIGTERM, which
    a stock agent sends both for a server stop and for a preempted machine).
    """

    def __init__(
        self,
        settings: Settings,
        store: ResultsStore,
        *,
        mode: str | None = "offline",
        project: str | None = "radsweep",
        entity: str | None = None,
        group: str | None = None,
        sweep_id: str | None = None,
        run_id: str | None = None,
        server_stopped: Callable[[str], bool] | None = None,
    ) -> None:
        self.settings, self.store = settings, store
        self.mode, self.project, self.entity = mode, project, entity
        self.spec, self.sweep_id, self.run_id = group, sweep_id, run_id
        self.server_stopped = server_stopped
        self.run: Any = None
        self.live = False  # epochs were logged as they finished
        self.seeds: tuple[int, ...] = ()
        self._stop = threading.Event()

    def run_started(self, config: RunConfig) -> None:
        self.seeds = config.seeds
        self.run = start_run(
            config,
            self.settings,
            mode=self.mode,
            project=self.project,
            entity=self.entity,
            group=schema.group(self.spec, self.sweep_id),
            run_id=self.run_id,
            sweep_id=self.sweep_id,
            stop=lambda: self._stop.set(),  # a function: W&B deep-copies its settings
            task_digest=task_digest(find_task_directory(config.task, self.settings.data)),
        )
        define_metrics(self.run)

    def epoch_finished(self, event: EpochEvent) -> None:
        metrics = {"loss": event.loss, "auc": event.auc, "auprc": event.auprc}
        values = {name: tensor.tolist() for name, tensor in metrics.items()}
        self.run.log(schema.epoch_row(event.stage, event.epoch, self.seeds, values))
        if event.cached and schema.CACHED_TEACHER_TAG not in self.run.tags:
            self.run.tags = (*self.run.tags, schema.CACHED_TEACHER_TAG)
            self.run.summary.update({schema.CACHED_TEACHER_TAG: True})
        self.live = True
        if self._stop.is_set():
            raise StopCommand("the W&B server stopped this run")

    def stored(self, outcome: RunOutcome) -> None:
        stored = stored_run(self.store, outcome.key, outcome.baseline_key)
        log_stored(
            self.run,
            stored,
            cached=outcome.skipped,
            spec=self.spec,
            cache_dir=self.settings.cache,
            history=not self.live,
        )
        heads = heads_folder(self.store.path, outcome.key)
        if self.settings.upload_heads and (heads / CARD_FILE).is_file():
            log_heads(self.run, heads, self.spec)
        self.store.set_wandb(outcome.key, self.run.id, run_url(self.run), self.sweep_id)
        finish(self.run)

    def stop_requested(self, error: BaseException) -> bool:
        if isinstance(error, StopCommand) or self._stop.is_set():
            return True
        if isinstance(error, Preempted):  # a machine signal: a stop only if the server says so
            stopped = self.server_stopped
            return stopped is not None and self.run is not None and stopped(self.run.id)
        return stopped_by_agent()

    def stopped(self) -> None:
        if self.run is not None:
            self.run.tags = (*self.run.tags, schema.STOPPED_TAG)
            self.run.summary.update({schema.STOPPED_TAG: True})
            finish(self.run)

    def mark_preempting(self) -> None:
        """Mark the open run preempting now: called in the signal handler while the pipeline
        trains on another thread, before the handler's thread can end the run. Bounded, and
        silent on failure: the pipeline still marks the run when it sees the signal."""
        run = self.run
        if run is not None:
            attempt(run.mark_preempting, MARK_SECONDS, "wandb-preempting")

    def preempted(self) -> None:
        if self.run is not None:
            self.run.mark_preempting()
            finish(self.run, exit_code=PREEMPTED_EXIT_CODE)

    def failed(self, error: BaseException) -> None:
        if self.run is not None:
            code = error.code if isinstance(error, SystemExit) and error.code else 1
            finish(self.run, exit_code=code if isinstance(code, int) else 1)
