"""Calls that may hang (W&B talking to a server) run in a daemon thread, waited for a bounded time.

A daemon thread, so a call still hanging after its caller gave up does not keep the process alive.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Result = TypeVar("Result")


@dataclass(frozen=True)
class Attempt(Generic[Result]):
    """How a bounded call ended: in time (with its value or its error) or not at all."""

    finished: bool
    value: Result | None = None
    error: BaseException | None = None


def attempt(call: Callable[[], Result], timeout: float, name: str) -> Attempt[Result]:
    """Run ``call()`` in a daemon thread named ``name``; wait at most ``timeout`` seconds."""
    values: list[Result] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            values.append(call())
        except BaseException as error:  # reported in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return Attempt(False)
    if errors:
        return Attempt(True, error=errors[0])
    return Attempt(True, value=values[0])
