import subprocess
import sys

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


def test_asking_twice_is_harmless() -> None:
    assert keep_freed_memory() == keep_freed_memory()
