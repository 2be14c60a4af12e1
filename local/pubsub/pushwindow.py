"""How many pushes of one subscription may be in flight, and when pushing pauses.

Google documents push flow control this way (cloud.google.com/pubsub/docs/push, "Push
backoff" and "Delivery rate"): the number of concurrent push requests, the *push window*,
starts small (single digits), grows on each successful delivery and shrinks on each failure;
and when the endpoint answers with failures, Pub/Sub pauses push delivery for a span between
100 ms and 60 s before it tries again. :class:`PushWindow` does both for one subscription:

* the window starts at :data:`INITIAL_WINDOW` (at most the ceiling), grows by one per success
  (so it doubles every round trip while the endpoint keeps up, as a slow start does) up to the
  ceiling (``--push-concurrency``), and halves on a failure, never below one;
* with ``pause=True`` on a failure (the subscription has no retry policy), pushing stops for
  ``low * 2^(n-1)`` seconds after the n-th consecutive failure, capped at ``high``
  (``--push-retry-min`` / ``--push-retry-max``, Google's 100 ms and 60 s by default); a success
  ends the streak. With a retry policy the policy's own per-message backoff applies instead.

Approximation: Google's window grows to thousands of messages for fast endpoints; here the
ceiling is a number of worker threads (default 8), which already saturates a local endpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# "The system starts with a small single-digit window size" (Google's push docs).
INITIAL_WINDOW = 3


class PushWindow:
    def __init__(self, ceiling: int, backoff: tuple[float, float]) -> None:
        self.ceiling = max(1, ceiling)
        self._low, self._high = backoff
        # _cond protects size, in_flight, _failures and paused_until.
        self._cond = threading.Condition()
        self.size = min(INITIAL_WINDOW, self.ceiling)
        self.in_flight = 0
        self._failures = 0  # consecutive failures, for the pause
        self.paused_until = 0.0  # monotonic time before which nothing is pushed

    def acquire(self, active: Callable[[], bool], timeout: float = 1.0) -> bool:
        """Waits for a free slot outside a pause; False on timeout or when ``active()`` is false."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                if not active():
                    return False
                now = time.monotonic()
                if self.in_flight < self.size and now >= self.paused_until:
                    self.in_flight += 1
                    return True
                wait = end - now
                if wait <= 0:
                    return False
                if now < self.paused_until:
                    wait = min(wait, self.paused_until - now)
                self._cond.wait(wait)

    def release(self, outcome: bool | None, pause: bool = False) -> None:
        """Frees a slot: True after a success, False after a failure, None if nothing was sent."""
        with self._cond:
            self.in_flight -= 1
            if outcome is True:
                self.size = min(self.ceiling, self.size + 1)
                self._failures = 0
            elif outcome is False:
                self.size = max(1, self.size // 2)
                if pause:
                    self._failures += 1
                    span = min(self._high, self._low * 2 ** (self._failures - 1))
                    self.paused_until = max(self.paused_until, time.monotonic() + span)
            self._cond.notify_all()

    def paused(self) -> bool:
        return time.monotonic() < self.paused_until

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()
