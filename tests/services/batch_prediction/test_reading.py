"""Reading a shard (`backends.reading`): every line once, in the shard it starts in, in chunks
of whole lines; the next block read while a chunk is scored, and nothing read beyond the
shard's last line."""

from __future__ import annotations

import io
import random
import threading
import time

import pytest

from services.batch_prediction.backends import reading
from shared.errors import ApiError, Code


def _all_lines_by_shards(data: bytes, shard_bytes: int, chunk: int, block: int, start0: int = 0):
    read = []
    position = start0
    while position < len(data):
        end = min(position + shard_bytes, len(data))
        for blob, offset, newlines in reading.iter_chunks(
            io.BytesIO(data), position, end, start0, chunk, block
        ):
            assert blob.endswith(b"\n")
            if newlines is not None:  # None: a last line that had no newline
                assert newlines.tolist() == [i for i, b in enumerate(blob) if b == 10]
            assert blob.count(b"\n") <= chunk
            assert data[offset : offset + len(blob) - 1] == blob[:-1]
            read += blob.splitlines()
        position = end
    return read


def test_every_line_is_read_exactly_once_whatever_the_cuts():
    rng = random.Random(7)
    lines = [b"x" * rng.randint(0, 40) + str(i).encode() for i in range(500)]
    data = b"\n".join(lines)  # no newline at the end
    for shard_bytes, chunk, block in [(1, 1, 1), (7, 3, 5), (50, 10, 1024), (10_000, 1000, 64)]:
        assert _all_lines_by_shards(data, shard_bytes, chunk, block) == lines
        assert _all_lines_by_shards(data + b"\n", shard_bytes, chunk, block) == lines


def test_chunks_that_are_whole_blocks_or_span_several_are_cut_alike():
    lines = [b"%08d" % i for i in range(60)]  # 9 bytes a line with its newline
    data = b"\n".join(lines) + b"\n"
    for shard_bytes, chunk, block in [(90, 1, 9), (90, 2, 9), (200, 7, 9), (540, 60, 4)]:
        assert _all_lines_by_shards(data, shard_bytes, chunk, block) == lines


def test_csv_data_starts_after_the_header():
    data = b"a,b\n1,2\n3,4\n"
    assert _all_lines_by_shards(data, 3, 10, 2, start0=4) == [b"1,2", b"3,4"]


class _Counting(io.BytesIO):
    """A reader that counts the bytes asked for, and can fail or be slow at a given read."""

    def __init__(self, data: bytes, fail_at: int = -1, slow: float = 0.0) -> None:
        super().__init__(data)
        self.asked = 0
        self.reads = 0
        self.reading = False
        self.second = threading.Event()  # set when the second read starts
        self._fail_at = fail_at
        self._slow = slow

    def read(self, size: int = -1) -> bytes:
        self.reading = True
        try:
            self.reads += 1
            if self.reads == 2:
                self.second.set()
            if self.reads == self._fail_at:
                raise ApiError(Code.UNAVAILABLE, "storage is down")
            time.sleep(self._slow)
            self.asked += size
            return super().read(size)
        finally:
            self.reading = False


def test_no_block_past_the_one_holding_the_shards_last_line_is_read():
    data = b"".join(b"%09d\n" % i for i in range(100))  # 10 bytes a line
    reader = _Counting(data)
    chunks = list(reading.iter_chunks(reader, 0, 500, 0, 7, 100))
    assert sum(blob.count(b"\n") for blob, _, _ in chunks) == 50
    assert reader.asked == 500  # blocks 0-4: the shard's; none read ahead past it


def test_a_failed_read_ahead_fails_the_shard_where_it_is_needed():
    data = b"".join(b"%09d\n" % i for i in range(100))
    reader = _Counting(data, fail_at=3)
    with pytest.raises(ApiError) as failed:
        list(reading.iter_chunks(reader, 0, 1000, 0, 5, 100))
    assert failed.value.code == Code.UNAVAILABLE


def test_a_shard_given_up_waits_for_its_pending_read_before_the_reader_closes():
    data = b"".join(b"%09d\n" % i for i in range(1000))
    reader = _Counting(data, slow=0.05)
    chunks = reading.iter_chunks(reader, 0, 10_000, 0, 5, 100)
    next(chunks)  # the first block read; the second read on a thread meanwhile
    assert reader.second.wait(5)
    assert reader.reading
    chunks.close()
    assert not reader.reading  # `close` waited for it
    assert reader.reads == 2
