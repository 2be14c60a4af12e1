"""One thread that wakes subscriptions when a time they asked for has come.

Ack deadlines and retry backoffs live in each subscription's queue; the queue asks the
:class:`Timer` to call ``callback(now)`` at a monotonic time, and the callback returns the next
time it wants (or None). Calling back early or twice is harmless: callbacks only act on what
is due. Lock order: a queue may call :meth:`Timer.schedule` while holding its own lock; the
timer never holds its lock while calling back.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("local.pubsub.timer")

Callback = Callable[[float], "float | None"]


class Timer:
    def __init__(self) -> None:
        # _cond protects _heap: (when, tie-breaker, callback) entries, earliest first.
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callback]] = []
        self._ties = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pubsub-timer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def schedule(self, when: float, callback: Callback) -> None:
        """Calls ``callback(now)`` on the timer thread at monotonic time ``when`` or soon after."""
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._ties), callback))
            if self._heap[0][0] == when:  # new earliest: the thread must shorten its wait
                self._cond.notify()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                now = time.monotonic()
                if not self._heap:
                    self._cond.wait(1.0)
                    continue
                when = self._heap[0][0]
                if when > now:
                    self._cond.wait(when - now)
                    continue
                _, _, callback = heapq.heappop(self._heap)
            try:
                again = callback(now)
            except Exception:
                log.exception("timer callback failed")
                continue
            if again is not None:
                self.schedule(again, callback)
