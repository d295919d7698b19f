"""Keep freed host memory for reuse, so large CPU activations do not pay page faults every step.

glibc serves every allocation above its mmap threshold (at most 32 MiB on 64-bit) with a fresh
``mmap`` and unmaps it on free, so each new tensor of that size is zero-filled page by page on
first touch. A vectorized step over S seeds holds activations S times larger than one seed's, so
more of them cross the ceiling: on a 2-core CPU at ViT-B token shapes the page faults made one
5-seed step 30 % slower than five 1-seed steps. Serving large blocks from the heap and keeping
freed memory there removes that cost; the price is that the process keeps its peak memory until
it exits, which suits a training process.
"""

import ctypes
import ctypes.util
import functools

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_KEEP_UP_TO_BYTES = 2**31 - 1  # mallopt takes an int: return no freed memory below 2 GiB


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc to serve large blocks from the heap and keep freed memory; once per process.

    Returns whether the allocator accepted it (False off glibc, where nothing changes).
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, _KEEP_UP_TO_BYTES) == 1
