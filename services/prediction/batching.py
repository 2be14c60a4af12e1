"""Micro-batching, the pure part: merge several requests' instances into one matrix, split the
model's output back, and plan which queued requests go in one batch. No threads, no clocks:
`adaptive.py` holds the queue and the timer (as MLServer keeps `batching/requests.py` apart
from `batching/adaptive.py`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def plan(sizes: Sequence[int], max_size: int) -> int:
    """How many of the queued requests (instance counts `sizes`, oldest first) go in the next
    batch: as many as fit in `max_size` instances, and always at least one (a request larger
    than `max_size` runs alone)."""
    if not sizes:
        return 0
    total = 0
    for count, size in enumerate(sizes):
        if count and total + size > max_size:
            return count
        total += size
    return len(sizes)


def merge(matrices: Sequence[np.ndarray]) -> tuple[np.ndarray, list[slice]]:
    """One matrix holding every request's rows in order, and each request's rows in it."""
    slices: list[slice] = []
    start = 0
    for matrix in matrices:
        slices.append(slice(start, start + matrix.shape[0]))
        start += matrix.shape[0]
    if len(matrices) == 1:
        return matrices[0], slices
    return np.concatenate(matrices, axis=0), slices


def split(output: np.ndarray, slices: Sequence[slice]) -> list[np.ndarray]:
    """The model's output for a merged matrix, cut back into each request's rows. Fails when
    the model returned a different number of rows than it was given (a mix-up guard)."""
    expected = slices[-1].stop if slices else 0
    if output.shape[0] != expected:
        raise ValueError(f"model returned {output.shape[0]} rows for {expected} instances")
    return [output[part] for part in slices]
