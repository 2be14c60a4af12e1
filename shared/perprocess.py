"""A value made on first use in each process. A child forked after it was made (gunicorn
`--preload`, a test harness) makes its own: threads do not survive a fork, and a pool or a
client's connections must not be shared with the parent."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._pid = 0
        # Protects the making, so that threads asking at once make one value.
        self._lock = threading.Lock()

    def get(self) -> T:
        """This process's value, made now if it has none."""
        if self._pid == os.getpid():  # set after `_value`: a value of this process
            return self._value  # type: ignore[return-value]
        with self._lock:
            if self._pid != os.getpid():
                self._value = self._make()
                self._pid = os.getpid()
            return self._value  # type: ignore[return-value]

    def forget(self, value: T | None = None) -> T | None:
        """This process's value (or `value` only, if given and still it) forgotten, so the
        next `get` makes another; the value forgotten, if any, for the caller to close."""
        with self._lock:
            if self._pid != os.getpid() or (value is not None and self._value is not value):
                return None
            forgotten, self._value, self._pid = self._value, None, 0
            return forgotten
