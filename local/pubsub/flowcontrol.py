"""Flow control of one StreamingPull stream: how much it may still hold, pure.

The client's first request sets ``max_outstanding_messages`` and ``max_outstanding_bytes``
(0 means unlimited); every lease of the stream counts against its :class:`Holder` until it
ends (ack, nack, deadline), and the queue wakes the stream's waiters when room appears.
"""

from __future__ import annotations


class Holder:
    """Flow control of one StreamingPull stream (0 means unlimited)."""

    __slots__ = ("bytes", "max_bytes", "max_messages", "messages")

    def __init__(self, max_messages: int = 0, max_bytes: int = 0) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.messages = 0
        self.bytes = 0

    def room(self, cap: int) -> tuple[int, int]:
        """(messages, bytes) this holder may still take, at most ``cap`` messages."""
        n = cap if not self.max_messages else min(cap, self.max_messages - self.messages)
        b = 0 if not self.max_bytes else max(1, self.max_bytes - self.bytes)
        if self.max_bytes and self.bytes >= self.max_bytes:
            n = 0
        return n, b
