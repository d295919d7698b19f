"""Waiting in sweep tests without wall-clock deadlines: a test that waits carries
``@pytest.mark.timeout(N)``, so a hang fails with its stack instead of a guessed time limit."""

import os
import select
import time
from collections.abc import Callable, Iterable

POLL_SECONDS = 0.05


def wait_for_exit(pids: Iterable[int]) -> None:
    """Block until every process in ``pids`` has exited (a zombie has: it holds only its exit
    code). Works for processes that are not our children, through Linux pidfds."""
    handles = []
    for pid in pids:
        try:
            handles.append(os.pidfd_open(pid))
        except ProcessLookupError:
            continue  # already gone
    try:
        waiting = select.poll()
        for handle in handles:
            waiting.register(handle, select.POLLIN)
        left = set(handles)
        while left:
            for handle, _ in waiting.poll():
                waiting.unregister(handle)
                left.discard(handle)
    finally:
        for handle in handles:
            os.close(handle)


def wait_until(condition: Callable[[], bool]) -> None:
    """Block until ``condition()`` holds: for state other processes write to files and SQLite,
    which offer no event to wait on, so it is read again every few milliseconds."""
    while not condition():
        time.sleep(POLL_SECONDS)
