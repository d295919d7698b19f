"""SIGTERM and SIGINT from the machine: preemption, seen by whichever thread runs the pipeline.

A preempted node, ``docker stop`` and a scheduler's pre-kill signal (SLURM sends SIGTERM, or
SIGINT) all mean the same: the run must end now, with nothing half-stored, so that its
orchestrator can run it again. Only the main thread can own a signal handler; the pipeline may run
on another (W&B's pyagent calls it on a worker thread), so the handler also sets a flag the
pipeline checks at every epoch and extraction batch. During a critical section (opening a
tracker's run) the handler only sets the flag, and the section raises once it is done, so the
run that must be marked preempted exists. The thread that owns the handler may end the run
before the pipeline's thread reaches its next check (W&B's pyagent tears its runs down on the way
out), so a tracker can ask to be told in the handler itself (``announced_to``) and mark its run
at once.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Preempted(SystemExit):
    """The machine interrupted the run; exits as a terminated process (128 + the signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class Preemption:
    """A preemption request, raised as ``Preempted`` on the main thread at once (outside critical
    sections) and on other threads at their next ``check``."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.signum: int = signal.SIGTERM
        self._critical = 0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def check(self) -> None:
        if self.requested.is_set():
            raise Preempted(self.signum)

    def request(self, signum: int) -> None:
        self.signum = signum
        self.requested.set()

    @contextmanager
    def announced_to(self, listener: Callable[[], None]) -> Iterator[None]:
        """While the body runs, a signal calls ``listener()`` in the handler, before anything
        else happens on the main thread (it must be quick and never raise)."""
        self._listeners.append(listener)
        try:
            yield
        finally:
            self._listeners.remove(listener)

    @contextmanager
    def critical(self) -> Iterator[None]:
        """A signal during the body only sets the flag; the body ends first, then it raises."""
        with self._lock:
            self._critical += 1
        try:
            yield
        finally:
            with self._lock:
                self._critical -= 1
        self.check()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.request(signum)
        for listener in list(self._listeners):
            listener()
        with self._lock:
            deferred = self._critical > 0
        if not deferred:
            raise Preempted(signum)

    @contextmanager
    def on_main_thread(self) -> Iterator[None]:
        """Own SIGTERM and SIGINT while the body runs (only the main thread can)."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("preemption signals can only be handled on the main thread")
        previous = {signum: signal.signal(signum, self._handle) for signum in SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
