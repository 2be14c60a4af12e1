"""The scoring processes' model files: written once a version, the last few kept, none
deleted while a job scores with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.batch_prediction.backends.spool import Spool
from shared.registry import ModelVersion


def _version(number: int) -> ModelVersion:
    return ModelVersion(
        name="m",
        version=str(number),
        framework="sklearn",
        artifact="model.joblib",
        output={"kind": "label"},
        create_time=f"2026-12-06T00:00:0{number}.000Z",
    )


@pytest.fixture
def spool():
    made = Spool(kept=2)
    yield made
    made.close()


def test_a_version_is_read_once_while_it_is_kept(spool):
    reads = []

    def read() -> bytes:
        reads.append(1)
        return b"artifact-1"

    for _ in range(3):
        artifact, compiled = spool.acquire(_version(1), read, b"compiled-1")
        assert Path(artifact).read_bytes() == b"artifact-1"
        assert Path(compiled).read_bytes() == b"compiled-1"
        spool.release(_version(1))
    assert len(reads) == 1
    assert spool.acquire(_version(1), read, None)[1] is None  # asked without: not given


def test_only_the_last_versions_are_kept_and_none_in_use_is_deleted(spool):
    running = spool.acquire(_version(1), lambda: b"artifact-1", None)[0]
    for number in (2, 3, 4):
        spool.acquire(_version(number), lambda n=number: f"artifact-{n}".encode(), None)
        spool.release(_version(number))
    assert Path(running).exists()  # version 1's job has not ended
    kept = {path.read_bytes() for path in spool.folder.glob("*.model")}
    assert kept == {b"artifact-1", b"artifact-3", b"artifact-4"}

    spool.release(_version(1))
    kept = {path.read_bytes() for path in spool.folder.glob("*.model")}
    assert kept == {b"artifact-3", b"artifact-4"}


def test_versions_with_the_same_artifact_share_its_file(spool):
    first = spool.acquire(_version(1), lambda: b"same", None)[0]
    spool.release(_version(1))
    for number in (2, 3):
        assert spool.acquire(_version(number), lambda: b"same", None)[0] == first
        spool.release(_version(number))
    assert Path(first).exists()  # version 1 left the kept two; 2 and 3 still need the file
