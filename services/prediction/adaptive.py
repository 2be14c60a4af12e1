"""Adaptive micro-batching around a model's vectorised predict: the queue and the timer.

Concurrent callers of `Batcher.predict` for one model version are served by one predict over
their merged instances. There is no batching thread: the first caller to find no batch in
progress becomes the leader; it waits for others to join (at most `max_wait` seconds, and only
while other requests are known to be on their way, see `InFlight`), runs the predict for the
whole batch, hands each caller its own rows, and passes leadership to the oldest caller still
queued. A caller alone pays no wait at all, so latency at concurrency 1 is unchanged, and under
load one predict call's fixed cost (scikit-learn's is ~0.2 ms) is shared by the batch.

The merge and split are pure functions in `batching.py`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class InFlight:
    """How many prediction requests in this process are on their way to a batcher: entered
    (`with inflight:`, around the whole request) and not yet queued at one. The hint that
    tells a batch leader whether waiting can pay off. A request that has joined a batch, or is
    past it (formatting its answer), is no longer counted: a leader waiting for it would wait
    out `max_wait` for nothing, as nobody tells it that the request will not come."""

    def __init__(self) -> None:
        self._count = 0
        # Protects `_count`.
        self._lock = threading.Lock()
        # This thread's open brackets not yet counted off (a route may nest them).
        self._local = threading.local()

    def __enter__(self) -> InFlight:
        with self._lock:
            self._count += 1
        self._local.open = getattr(self._local, "open", 0) + 1
        return self

    def __exit__(self, *_exc: object) -> None:
        if getattr(self._local, "open", 0):
            self._local.open -= 1
            with self._lock:
                self._count -= 1

    def arrived(self) -> None:
        """The calling thread's request has reached a batcher (or goes around it)."""
        open_brackets = getattr(self._local, "open", 0)
        if open_brackets:
            self._local.open = 0
            with self._lock:
                self._count -= open_brackets

    @property
    def count(self) -> int:
        return self._count


class _Call:
    __slots__ = ("done", "error", "leads", "matrix", "output")

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix
        self.output: np.ndarray | None = None
        self.error: BaseException | None = None
        self.leads = False
        self.done = threading.Event()

    def result(self) -> np.ndarray:
        if self.error is not None:
            raise self.error
        assert self.output is not None
        return self.output


class Batcher:
    """Micro-batches calls to `predict_raw` (matrix in, per-row output out)."""

    def __init__(
        self,
        predict_raw: Callable[[np.ndarray], np.ndarray],
        max_size: int,
        max_wait: float,
        inflight: InFlight | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._predict_raw = predict_raw
        self.max_size = max_size
        self.max_wait = max_wait
        self._inflight = inflight
        self._on_batch = on_batch
        self.owner: object | None = None  # what the batcher was made for (a ServedModel)
        self._queue: deque[_Call] = deque()
        self._leader: _Call | None = None
        # Protects `_queue` and `_leader`; waited on by a leader gathering its batch.
        self._cond = threading.Condition(threading.Lock())

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        if matrix.shape[0] >= self.max_size:
            if self._inflight is not None:
                self._inflight.arrived()
            self._report(matrix.shape[0])
            return self._predict_raw(matrix)
        call = _Call(matrix)
        with self._cond:
            self._queue.append(call)
            if self._inflight is not None:
                self._inflight.arrived()
            if self._leader is None:
                self._leader = call
                call.leads = True
            else:
                self._cond.notify()
        if not call.leads:
            call.done.wait()
        if call.leads:  # from the start, or handed over by the previous leader
            self._lead()
        return call.result()

    def _expected(self) -> int:
        """Requests on their way that are not queued anywhere yet (an upper bound: some may be
        for other models)."""
        return self._inflight.count if self._inflight else 0

    def _lead(self) -> None:
        deadline = time.monotonic() + self.max_wait
        with self._cond:
            while (
                sum(c.matrix.shape[0] for c in self._queue) < self.max_size and self._expected() > 0
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            count = _plan([c.matrix.shape[0] for c in self._queue], self.max_size)
            batch = [self._queue.popleft() for _ in range(count)]
        try:
            self._run(batch)
        finally:
            with self._cond:
                self._leader = self._queue[0] if self._queue else None
                if self._leader is not None:
                    self._leader.leads = True
                    self._leader.done.set()

    def _run(self, batch: list[_Call]) -> None:
        from services.prediction import batching

        try:
            merged, slices = batching.merge([c.matrix for c in batch])
            self._report(merged.shape[0])
            outputs = batching.split(self._predict_raw(merged), slices)
        except BaseException as exc:
            for call in batch:
                call.error = exc
                call.leads = False
                call.done.set()
            return
        for call, output in zip(batch, outputs, strict=True):
            call.output = output
            call.leads = False
            call.done.set()

    def _report(self, size: int) -> None:
        if self._on_batch is not None:
            self._on_batch(size)


def _plan(sizes: list[int], max_size: int) -> int:
    from services.prediction.batching import plan

    return plan(sizes, max_size)
