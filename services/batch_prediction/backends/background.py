"""Threads that move a shard's bytes while its chunks are scored: the next block read, the
last chunk's lines written (a download, an upload or a file's read or write lets go of the
GIL). Each shard keeps at most one read and one write a file in flight, so more shards at
once than threads only wait their turn."""

from __future__ import annotations

import concurrent.futures

from shared.perprocess import PerProcess
from shared.storage import ObjectWriter

_THREADS = 8
_threads = PerProcess(
    lambda: concurrent.futures.ThreadPoolExecutor(_THREADS, thread_name_prefix="shard-io")
)


def threads() -> concurrent.futures.ThreadPoolExecutor:
    """This process's threads."""
    return _threads.get()


class WriteBehind:
    """An `ObjectWriter` whose writes run on a thread, in order and one at a time, so that the
    next chunk is scored while the last one's lines are uploaded or written; memory holds one
    chunk's lines more. A write that failed fails the next call (`write`, `commit`), and
    nothing is committed after it; `abort` waits for a write in flight before it cancels."""

    def __init__(self, writer: ObjectWriter) -> None:
        self._writer = writer
        self._pending: concurrent.futures.Future[None] | None = None

    def write(self, data: bytes) -> None:
        self._wait()
        self._pending = threads().submit(self._writer.write, data)

    def commit(self) -> None:
        try:
            self._wait()
        except BaseException:
            # Never left open: a BlobWriter that is collected finalises what it holds.
            self._writer.abort()
            raise
        self._writer.commit()

    def abort(self) -> None:
        if self._pending is not None:
            concurrent.futures.wait([self._pending])
            self._pending = None
        self._writer.abort()

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()
