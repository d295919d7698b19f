"""Observers of the one pipeline: who wants to know what a run is doing while it runs.

``runs.execute.run_configuration`` is the only prepare -> fit -> record sequence; a tracker (W&B,
in ``radsweep.tracking``) watches it through these hooks instead of running its own copy. Every
hook has a no-op default (subclass ``RunObserver`` and override what you need; ``NO_OBSERVER``
watches nothing), and ``Observers`` fans one call out to several.
"""

from collections.abc import Iterable

from radsweep.runs.config import RunConfig
from radsweep.runs.outcome import RunOutcome
from radsweep.training.engine import EpochEvent


class RunObserver:
    """The hooks, in the order a run calls them.

    ``run_started`` comes first, before features are extracted, so a tracker can mark every later
    phase preempted. Exactly one of ``stored`` (trained and recorded, or already stored),
    ``stopped``, ``preempted`` or ``failed`` ends the run.
    """

    def run_started(self, config: RunConfig) -> None:
        """The configuration resolved against its task (what will train)."""

    def epoch_finished(self, event: EpochEvent) -> None:
        """One epoch of the run's own fit finished (never its image-only baseline's)."""

    def stored(self, outcome: RunOutcome) -> None:
        """The store holds the run now: trained and recorded (or found stored, ``skipped``)."""

    def stop_requested(self, error: BaseException) -> bool:
        """Whether ``error`` is the run's orchestrator stopping it (not a failure, not a
        preemption): a stopped run ends with nothing stored, and is not queued again."""
        return False

    def stopped(self) -> None:
        """The orchestrator stopped the run; nothing of it was stored."""

    def preempted(self) -> None:
        """The machine interrupted the run (SIGTERM, SIGINT); nothing of it was stored."""

    def failed(self, error: BaseException) -> None:
        """The run failed with ``error`` (raised again after the observers saw it)."""


class Observers(RunObserver):
    """Several observers as one, called in order."""

    def __init__(self, observers: Iterable[RunObserver]) -> None:
        self.observers = tuple(observers)

    def run_started(self, config: RunConfig) -> None:
        for observer in self.observers:
            observer.run_started(config)

    def epoch_finished(self, event: EpochEvent) -> None:
        for observer in self.observers:
            observer.epoch_finished(event)

    def stored(self, outcome: RunOutcome) -> None:
        for observer in self.observers:
            observer.stored(outcome)

    def stop_requested(self, error: BaseException) -> bool:
        return any(observer.stop_requested(error) for observer in self.observers)

    def stopped(self) -> None:
        for observer in self.observers:
            observer.stopped()

    def preempted(self) -> None:
        for observer in self.observers:
            observer.preempted()

    def failed(self, error: BaseException) -> None:
        for observer in self.observers:
            observer.failed(error)


class _NoObserver(RunObserver):
    """Watches nothing (the plain path)."""


NO_OBSERVER: RunObserver = _NoObserver()
