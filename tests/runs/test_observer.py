"""The pipeline's observer hooks and preemption, with a recording observer (no W&B)."""

import os
import signal
from pathlib import Path

import pytest

from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import RunHooks, run_configuration
from radsweep.runs.interrupts import Preempted, Preemption
from radsweep.runs.observer import Observers, RunObserver
from radsweep.runs.outcome import RunOutcome
from radsweep.settings import Settings
from radsweep.training.engine import EpochEvent

CONFIG = RunConfig(
    task="synth-prognostic", backbone="c2l", fraction=1.0, seeds=(0, 1), epochs=3, tiny=True
)


class Recorder(RunObserver):
    """The hooks called, in order; ``interrupt`` sends this process SIGTERM inside one."""

    def __init__(self, interrupt: str | None = None, stop_at: int | None = None) -> None:
        self.calls: list[str] = []
        self.interrupt, self.stop_at = interrupt, stop_at

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name == self.interrupt:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs at once, on this thread

    def run_started(self, config: RunConfig) -> None:
        self._call("started")
        self.calls.append("started: done")  # a signal inside waits for the hook to end

    def epoch_finished(self, event: EpochEvent) -> None:
        self._call(f"epoch {event.stage} {event.epoch}")
        if event.epoch == self.stop_at:
            raise LookupError("the orchestrator says stop")

    def stored(self, outcome: RunOutcome) -> None:
        self._call("stored")

    def stop_requested(self, error: BaseException) -> bool:
        return isinstance(error, LookupError)

    def stopped(self) -> None:
        self._call("stopped")

    def preempted(self) -> None:
        self._call("preempted")

    def failed(self, error: BaseException) -> None:
        self._call(f"failed: {type(error).__name__}")


@pytest.fixture
def home(tiny_features: Settings, tmp_path: Path) -> Settings:
    return tiny_features.model_copy(update={"home": tmp_path / "home"})


def _run(home: Settings, observer: RunObserver) -> RunOutcome:
    preemption = Preemption()
    with preemption.on_main_thread():
        hooks = RunHooks(observer=observer, preemption=preemption)
        return run_configuration(CONFIG, home, device="cpu", hooks=hooks)


def test_every_observer_sees_the_run_in_order(home: Settings) -> None:
    first, second = Recorder(), Recorder()
    outcome = _run(home, Observers([first, second]))
    epochs = [f"epoch model {epoch}" for epoch in (1, 2, 3)]
    assert first.calls == second.calls == ["started", "started: done", *epochs, "stored"]
    assert not outcome.stopped and not outcome.skipped
    again = Recorder()
    assert _run(home, again).skipped
    assert again.calls == ["started", "started: done", "stored"]  # replayed, nothing trained


@pytest.mark.parametrize("phase", ["started", "epoch model 2", "stored"])
def test_sigterm_in_any_phase_is_preemption_seen_by_the_observer(
    home: Settings, phase: str
) -> None:
    recorder = Recorder(interrupt=phase)
    with pytest.raises(Preempted) as raised:
        _run(home, recorder)
    assert raised.value.code == 143
    assert recorder.calls[-1] == "preempted"
    if phase == "started":  # the run it has to mark exists first
        assert recorder.calls == ["started", "started: done", "preempted"]
    if phase != "stored":
        assert ResultsStore(default_store_path(home)).runs().empty


def test_a_stop_ends_the_run_with_nothing_stored(home: Settings) -> None:
    recorder = Recorder(stop_at=2)
    outcome = _run(home, recorder)
    assert outcome.stopped and outcome.result is None
    assert recorder.calls[-2:] == ["epoch model 2", "stopped"]
    assert ResultsStore(default_store_path(home)).runs().empty


def test_a_signal_in_a_critical_section_waits_for_its_end() -> None:
    preemption = Preemption()
    reached = []
    with preemption.on_main_thread(), pytest.raises(Preempted), preemption.critical():
        os.kill(os.getpid(), signal.SIGINT)  # a scheduler's SIGINT is preemption too
        reached.append("end of the section")
    assert reached == ["end of the section"] and preemption.signum == signal.SIGINT
