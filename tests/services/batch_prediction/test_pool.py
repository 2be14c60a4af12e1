"""Scoring processes kept across jobs (`backends.pool.ScoringPool`): a second job runs on the
same processes, and the files are those of scoring in process."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import time

import joblib
import numpy as np
import pytest

from services.batch_prediction.backends.base import Plan
from services.batch_prediction.backends.pool import ScoringPool, _ready, _rehearse
from services.batch_prediction.backends.shards import score_shard
from services.batch_prediction.jobfiles import JobFiles
from services.batch_prediction.planning import expand_inputs
from shared.modelruntime import load
from shared.modelschema import InputSchema
from shared.registry import ModelVersion
from shared.storage import Storage
from tests.services.batch_prediction import models


class _Counted:
    def __init__(self) -> None:
        self.done: dict[int, tuple[int, int]] = {}

    def chunk(self, ok: int, failed: int, size: int) -> None:
        pass

    def shard_done(self, number: int, ok: int, failed: int) -> None:
        self.done[number] = (ok, failed)

    def check(self) -> None:
        pass


@pytest.fixture(scope="module")
def pool():
    pool = ScoringPool(2, allow_local=True)
    pool.warm(background=False)
    yield pool
    pool.close()


def _plan(files: JobFiles, source: str, output: str) -> Plan:
    inputs, _ = expand_inputs(files, (source,), "jsonl")
    return Plan(
        job="projects/p/locations/l/batchPredictionJobs/1",
        output_dir=output,
        inputs=tuple(inputs),
        shard_bytes=4096,
        chunk_size=50,
        read_block=1024,
        upload_chunk=256 * 1024,
    )


def _outputs(folder) -> dict[str, list]:
    return {
        p.name: [json.loads(line) for line in p.read_text().splitlines()]
        for p in sorted(folder.iterdir())
    }


def _job_inputs(tmp_path, rows: int, seed: int, bad_line: int | None = None):
    """A JSONL input of `rows` instances (one malformed at `bad_line`), a logistic model's
    artifact and its version: (source URI, artifact buffer, version)."""
    lines = [json.dumps({"instance": row}) for row in models.data(rows, seed=seed).tolist()]
    if bad_line is not None:
        lines[bad_line] = "[1, 2]"
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    buffer = io.BytesIO()
    joblib.dump(models.logistic(), buffer)
    version = ModelVersion(
        name="m",
        version="1",
        framework="sklearn",
        artifact="model.joblib",
        output={"kind": "label"},
        schema=InputSchema.numeric_features(models.NAMES),
    )
    return f"file://{tmp_path / 'in.jsonl'}", buffer, version


def test_jobs_reuse_the_processes_and_write_what_one_process_writes(pool, tmp_path):
    files = JobFiles(Storage("test"), allow_local_files=True)
    source, buffer, version = _job_inputs(tmp_path, 600, seed=5, bad_line=17)

    served = load(version, buffer.getvalue())
    alone = _plan(files, source, f"file://{tmp_path / 'alone'}")
    for shard in alone.shards():
        score_shard(shard, alone, served, files)

    assert served.compiled is not None  # a linear pipeline: compiled at load
    pids = {pool._executor().submit(_ready).result() for _ in range(8)}
    reads = []

    def read_artifact() -> bytes:
        reads.append(1)
        return buffer.getvalue()

    for run, compiled in (("first", None), ("second", served.compiled)):
        plan = _plan(files, source, f"file://{tmp_path / run}")
        progress = _Counted()
        pool.score(plan, plan.shards(), version, read_artifact, progress, 1.0, compiled)
        assert len(progress.done) == len(plan.shards()) > 2
        assert sum(ok for ok, _ in progress.done.values()) == 599
        assert _outputs(tmp_path / run) == _outputs(tmp_path / "alone")
    pids |= {pool._executor().submit(_ready).result() for _ in range(8)}
    assert len(pids) <= 2  # every task of both jobs ran on the two processes of the warm-up
    assert len(reads) == 1  # the version's artifact came from the registry once, not a job
    spooled = (version.to_json(), *pool._spool.acquire(version, read_artifact, served.compiled))
    assert pool._executor().submit(_served_from_compiled_form, spooled).result()


def _served_from_compiled_form(spooled) -> bool:
    from services.batch_prediction.backends.pool import _model

    return _model(*spooled)._native is None  # no artifact unpickled


def _faults_of_chunk_sized_buffers() -> int:
    """Page faults of making and freeing three 6 MB buffers four times, after a first time
    (a chunk's bytes, its `translate`, a block read: freed when the chunk is done)."""
    arrays = [np.ones(6 << 20, np.uint8) for _ in range(3)]
    del arrays
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        arrays = [np.ones(6 << 20, np.uint8) for _ in range(3)]
        del arrays
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_a_scoring_process_keeps_the_memory_a_chunk_freed_for_the_next(pool):
    # With glibc's defaults the heap's top was given back and faulted in again: ~4,500 faults
    # here, ~400 a real chunk.
    assert pool._executor().submit(_faults_of_chunk_sized_buffers).result() < 500


def test_the_warm_up_rehearses_the_fast_path_a_real_chunk_takes():
    # A rehearsal that fell to the line-by-line path would warm nothing the real chunks use.
    batch = _rehearse()
    assert batch.template is not None
    assert batch.matrix.shape == (10_000, 64)
    assert not batch.errors


def test_with_one_process_no_engine_is_made_before_a_job():
    # With processes to start, `test_jobs_api` sees them in the running service's tree.
    from services.batch_prediction.execution import Execution
    from services.batch_prediction.settings import BatchPredictionSettings

    files = JobFiles(Storage("test"), allow_local_files=True)
    one = Execution(BatchPredictionSettings(), files, None, None)  # type: ignore[arg-type]
    one.prepare()
    assert not one._engines


def test_a_process_that_died_between_jobs_costs_no_job(tmp_path):
    # A scoring process killed while idle (an OOM kill, say) breaks the pool; the next job
    # runs on new processes. (The broken pool used to stay: every later job failed.)
    files = JobFiles(Storage("test"), allow_local_files=True)
    source, buffer, version = _job_inputs(tmp_path, 200, seed=7)
    broken = ScoringPool(2, allow_local=True)
    try:
        broken.warm(background=False)
        first = broken._executor()
        os.kill(first.submit(_ready).result(), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not first._broken:  # the executor has noticed the death
            assert time.monotonic() < deadline
            time.sleep(0.05)

        plan = _plan(files, source, f"file://{tmp_path / 'out'}")
        progress = _Counted()
        broken.score(plan, plan.shards(), version, buffer.getvalue, progress, 1.0)

        assert sum(ok for ok, _ in progress.done.values()) == 200
        assert broken._executor() is not first
        assert not broken._spool._in_use  # the job gave its model's files back
    finally:
        broken.close()
