"""How a process that scores chunks holds its memory (glibc's allocator)."""

from __future__ import annotations

import ctypes

# glibc's `mallopt` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 << 20  # glibc's largest: a buffer above it is still mapped on its own
_TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> None:
    """Keeps memory that a chunk freed for the next one, instead of handing it back to the
    kernel and taking it again page by page. By default glibc maps each buffer over a few
    MB on its own and unmaps it when freed, and gives back the top of the heap once 2x that
    is free: each chunk's few MB of buffers (the bytes read, the chunk, its `translate`) were
    faulted in afresh, ~400 page faults a 10,000-row chunk; kept, ~10. Scoring in process,
    bench/batch.py's input went 620-670k -> 680-750k rows/s. The process then holds what its
    largest chunks needed (its peak), which it would hold at that chunk anyway. Not glibc
    (musl): left as it is."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    except (OSError, AttributeError):
        pass
