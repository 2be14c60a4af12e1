"""A shard's two files (`backends.shards.ShardFiles`): both appear, or neither."""

from __future__ import annotations

import pytest

from services.batch_prediction.backends.base import Plan
from services.batch_prediction.backends.shards import ShardFiles
from shared.errors import ApiError, Code


class _File:
    def __init__(self, uri: str, fail_commit: bool) -> None:
        self.uri = uri
        self.state = "open"
        self._fail_commit = fail_commit

    def write(self, data: bytes) -> None:
        pass

    def commit(self) -> None:
        if self._fail_commit:
            raise ApiError(Code.UNAVAILABLE, "storage is down")
        self.state = "committed"

    def abort(self) -> None:
        self.state = "aborted"


class _Files:
    def __init__(self) -> None:
        self.opened: dict[str, _File] = {}

    def open_writer(self, uri: str, metadata: dict, *, chunk_bytes: int, content_type: str):
        self.opened[uri] = _File(uri, fail_commit="errors" in uri)
        return self.opened[uri]


def test_an_errors_file_that_cannot_be_committed_leaves_no_predictions_file():
    # A predictions file left open would be finalised when collected, marking the shard done.
    files = _Files()
    plan = Plan(job="j", output_dir="gs://o/d", inputs=(), shard_bytes=10, chunk_size=5)
    with pytest.raises(ApiError), ShardFiles(files, plan, 1) as out:  # type: ignore[arg-type]
        out.write(b"line\n", b"error line\n")
    states = {uri.rsplit("/", 1)[1]: f.state for uri, f in files.opened.items()}
    assert states == {"predictions_0001.jsonl": "aborted", "errors_0001.jsonl": "open"}
