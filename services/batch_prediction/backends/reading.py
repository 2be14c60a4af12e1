"""Reading a shard: the lines that start in its byte range, in chunks of whole lines.

A shard is read in blocks of `READ_BLOCK_BYTES` (one ranged request each from Cloud Storage)
and cut into chunks of at most `CHUNK_SIZE` lines; a line belongs to the shard it starts in,
so the first partial line of a shard is the previous shard's and the last line is read to
its end past the shard's. While a chunk is scored, the next block is already being read on a
thread (a download or a file read lets go of the GIL), as long as the shard needs it: no
block beyond the one holding the shard's last line is fetched.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from typing import IO

import numpy as np

from services.batch_prediction.backends import background


def iter_chunks(
    reader: IO[bytes], start: int, end: int, data_start: int, chunk_rows: int, block: int
) -> Iterator[tuple[bytes, int, np.ndarray | None]]:
    """Whole lines that start in [start, end), at most `chunk_rows` at a time, each chunk
    with the offset of its first byte and the offsets of its newlines in it (found once
    per byte read, here; None for a last line without a newline, which gets one)."""
    skip = start > data_start
    position = start - 1 if skip else start  # the offset of the window's first byte
    reader.seek(position)
    window = _Window(reader, block, position, end)
    try:
        if skip:  # the line that starts before `start` belongs to the shard before
            while not len(window.newlines):
                position += window.drop(window.size)
                if not window.fill():
                    return
            position += window.drop(int(window.newlines[0]) + 1)
        while position < end:
            limit = end - position  # lines must start before this offset in the window
            newlines = window.newlines
            while len(newlines) < chunk_rows and (not len(newlines) or newlines[-1] + 1 < limit):
                if not window.fill():
                    break
                newlines = window.newlines
            if not len(newlines):
                if window.size:
                    yield window.take(window.size) + b"\n", position, None
                return
            take = min(chunk_rows, len(newlines))
            owned = 1 + int(np.count_nonzero(newlines[: take - 1] + 1 < limit))
            cut = int(newlines[owned - 1]) + 1
            yield window.take(cut), position, newlines[:owned]
            position += cut
    finally:
        window.close()  # before the caller closes the reader under a pending read


class _Window:
    """The bytes read from `reader` and not yet handed on, kept as the blocks they came in
    (views, not copies), with the offsets of their newlines. A chunk is copied once, when it
    is taken: appending each block to one growing `bytes` and slicing the chunk off it copied
    every byte three or four times."""

    def __init__(self, reader: IO[bytes], block: int, at: int, end: int) -> None:
        self._reader = reader
        self._block = block
        self._end = end  # the shard's end: blocks starting before it are read ahead
        self._read_to = at  # the offset after the last block asked for
        self._pending: concurrent.futures.Future[bytes] | None = None
        self._parts: list[memoryview] = []
        self.size = 0
        self.newlines = np.empty(0, dtype=np.intp)  # offsets from the window's first byte

    def fill(self) -> bool:
        """One more block read; False at the end of the input."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            data = pending.result()
        else:
            data = self._reader.read(self._block)
            self._read_to += self._block
        if not data:
            return False
        if self._read_to < self._end:  # the shard goes on past this block: read the next
            self._pending = background.threads().submit(self._reader.read, self._block)
            self._read_to += self._block
        found = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        if self.size:
            found += self.size
        self.newlines = np.concatenate((self.newlines, found)) if len(self.newlines) else found
        self._parts.append(memoryview(data))
        self.size += len(data)
        return True

    def take(self, count: int) -> bytes:
        """The window's first `count` bytes, removed from it."""
        return b"".join(self._cut(count))

    def drop(self, count: int) -> int:
        """Forgets the window's first `count` bytes; `count`."""
        self._cut(count)
        return count

    def close(self) -> None:
        """Waits for a read still pending (its block is not needed: the shard is done or was
        given up), so that the reader is not closed under it."""
        if self._pending is not None and not self._pending.cancel():
            concurrent.futures.wait([self._pending])
        self._pending = None

    def _cut(self, count: int) -> list[memoryview]:
        """The views holding the window's first `count` bytes, removed from it."""
        parts: list[memoryview] = []
        missing = count
        while missing:
            part = self._parts[0]
            if len(part) > missing:
                parts.append(part[:missing])
                self._parts[0] = part[missing:]
                break
            parts.append(self._parts.pop(0))
            missing -= len(part)
        self.size -= count
        first = int(np.searchsorted(self.newlines, count))
        self.newlines = self.newlines[first:] - count
        return parts
