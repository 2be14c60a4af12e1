"""A shard's lines written behind its scoring (`backends.background.WriteBehind`): in order,
one write in flight, a failed write failing the shard and never committed."""

from __future__ import annotations

import threading

import pytest

from services.batch_prediction.backends.background import WriteBehind
from shared.errors import ApiError, Code


class _Recording:
    def __init__(self, fail_at: int = -1, gate: threading.Event | None = None) -> None:
        self.written: list[bytes] = []
        self.state = "open"
        self.in_flight = 0
        self._fail_at = fail_at
        self._gate = gate

    def write(self, data: bytes) -> None:
        self.in_flight += 1
        try:
            if self._gate is not None:
                self._gate.wait(5)
            if len(self.written) == self._fail_at:
                raise ApiError(Code.UNAVAILABLE, "storage is down")
            self.written.append(data)
        finally:
            self.in_flight -= 1

    def commit(self) -> None:
        self.state = "committed"

    def abort(self) -> None:
        assert not self.in_flight, "aborted under a write"
        self.state = "aborted"


def test_writes_land_in_order_before_the_commit():
    target = _Recording()
    writer = WriteBehind(target)
    for i in range(50):
        writer.write(b"%d\n" % i)
    writer.commit()
    assert target.written == [b"%d\n" % i for i in range(50)]
    assert target.state == "committed"


def test_a_failed_write_fails_the_next_call_and_is_never_committed():
    target = _Recording(fail_at=2)
    writer = WriteBehind(target)
    writer.write(b"a")
    writer.write(b"b")
    writer.write(b"c")  # fails on the thread
    with pytest.raises(ApiError):
        writer.commit()
    assert target.state == "aborted"
    assert target.written == [b"a", b"b"]


def test_abort_waits_for_the_write_in_flight():
    gate = threading.Event()
    target = _Recording(gate=gate)
    writer = WriteBehind(target)
    writer.write(b"a")
    threading.Timer(0.05, gate.set).start()
    writer.abort()  # `_Recording.abort` fails if a write is still running
    assert target.state == "aborted"
