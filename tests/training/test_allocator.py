import ctypes
import ctypes.util
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from radsweep.training.allocator import keep_freed_memory

# Twenty 64 MiB temporaries after a warm-up: how many pages the process had to fault in for them.
_WORKLOAD = """
import resource, sys, torch
from radsweep.training.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
x = torch.ones(2**24)
def work():
    for _ in range(20):
        (x * 2).sum()
work()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
work()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _WORKLOAD, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_memory_is_reused_instead_of_faulted_in_again() -> None:
    default, kept = _page_faults("default"), _page_faults("keep")
    pages = 2**24 * 4 // 4096
    assert default >= 16 * pages  # by default nearly every temporary is a fresh map
    assert kept <= 2 * pages


# glibc's malloc.h: mallopt's option numbers, and 1 for an accepted setting.
M_TRIM_THRESHOLD, M_MMAP_MAX, ACCEPTED = -1, -4, 1


@pytest.fixture
def libc(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    """A stand-in C library whose ``mallopt`` records its calls and accepts them: the test
    process's own allocator is left alone, and ``keep_freed_memory`` asks afresh."""
    calls: list[tuple[int, int]] = []

    def mallopt(option: int, value: int) -> int:
        calls.append((option, value))
        return ACCEPTED

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"lib{name}-stand-in")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: SimpleNamespace(mallopt=mallopt))
    keep_freed_memory.cache_clear()
    yield calls
    keep_freed_memory.cache_clear()


def test_asking_twice_sets_the_allocator_once(libc: list[tuple[int, int]]) -> None:
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True
    assert libc == [(M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1)]


def test_a_refused_setting_is_reported(
    monkeypatch: pytest.MonkeyPatch, libc: list[tuple[int, int]]
) -> None:
    monkeypatch.setattr(ctypes, "CDLL", lambda name: SimpleNamespace(mallopt=lambda *_: 0))
    assert keep_freed_memory() is False


def test_without_a_c_library_nothing_changes(
    monkeypatch: pytest.MonkeyPatch, libc: list[tuple[int, int]]
) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert keep_freed_memory() is False
    assert libc == []
