"""Two workers and one job (two instances of the service, or two server processes of one):
the worker that holds the job keeps it with its heartbeat from the claim on, and a worker that
lost it writes nothing more. In process, over job records in the storage emulator.

This is the race behind a job once seen SUCCEEDED with the counts of a run that had barely
begun: a worker whose heartbeat had lapsed (loading the model under load took longer than
the lease) kept writing its progress after another worker had taken the job over and ended
it."""

from __future__ import annotations

import threading

import pytest

from services.batch_prediction.jobrecord import RUNNING, SUCCEEDED, JobRecord
from services.batch_prediction.jobs import Jobs
from services.batch_prediction.jobspec import from_message
from services.batch_prediction.lease import Lease, LeaseLost
from services.batch_prediction.settings import BatchPredictionSettings
from shared.errors import ApiError, Code
from shared.pubsub import PubSubPublisher
from shared.storage import Storage
from tests.services.batch_prediction import models
from tests.services.batch_prediction.conftest import (
    DATA,
    JOBS,
    MODELS,
    OUT,
    PARENT,
    jsonl,
    unique,
    upload,
    wait_for,
)

ROWS = 300


@pytest.fixture
def workers(bp):
    """Two workers on the same job records, as two instances would be."""
    settings = BatchPredictionSettings(
        registry_bucket=MODELS,
        jobs_bucket=JOBS,
        heartbeat_seconds=0.05,
        lease_seconds=30,
        recover_seconds=0,  # no recovery thread: the test says who runs what
    )
    made = [
        Jobs(settings, Storage("test-project"), PubSubPublisher(), worker=name)
        for name in ("worker-a", "worker-b")
    ]
    yield made
    for jobs in made:
        jobs.close()


@pytest.fixture
def job_id(bp, workers) -> str:
    source = f"gs://{DATA}/{unique('lease')}.jsonl"
    upload(bp.gcs, source, jsonl(models.data(ROWS, seed=51).tolist()))
    spec = from_message({"model": "clf@champion", "input": source, "output": f"gs://{OUT}/lease"})
    name = f"{PARENT}/batchPredictionJobs/{unique('lease')}"
    record, _ = workers[0].store.create(JobRecord.new(name, spec, trigger="rest", model_name="clf"))
    return record.job_id


def _lapse(jobs: Jobs, job_id: str) -> None:
    """The holder's heartbeat as a stalled process leaves it: older than any lease."""

    def stale(current: JobRecord) -> JobRecord:
        current.private.heartbeat = 0.0
        return current

    jobs.store.update(job_id, stale)


def test_a_worker_that_lost_the_job_writes_nothing_more(workers, job_id):
    a, b = workers
    claimed = a.claim(job_id)
    lease = Lease(a.store, claimed, heartbeat_seconds=60, cancel=threading.Event())
    lease.track({}, {1: 1000})
    lease.chunk(7, 0, 100)
    lease.flush()
    _lapse(a, job_id)

    finished = b.run(job_id)  # worker b takes the orphan over and runs it to its end

    assert finished.state == SUCCEEDED
    assert (finished.successful_count, finished.failed_count) == (ROWS, 0)
    with pytest.raises(LeaseLost):
        lease.flush()
    with pytest.raises(LeaseLost):
        lease.check()  # worker a's engine stops at its next chunk
    record = b.get(job_id)
    assert record.state == SUCCEEDED
    assert (record.successful_count, record.failed_count) == (ROWS, 0)
    assert record.private.worker == "worker-b"


def test_the_heartbeat_keeps_the_job_from_the_claim_on(workers, job_id):
    a, b = workers
    claimed = a.claim(job_id)
    _lapse(a, job_id)  # as if the claim were long ago
    lease = Lease(a.store, claimed, heartbeat_seconds=0.05, cancel=threading.Event())
    lease.start()  # before any progress: planning, loading the model, spawning processes
    try:
        wait_for(lambda: a.get(job_id).private.heartbeat > 0, timeout=30)

        with pytest.raises(ApiError) as refused:
            b.run(job_id)

        assert refused.value.code == Code.UNAVAILABLE
        assert "another worker (worker-a)" in refused.value.message
        record = a.get(job_id)
        assert record.state == RUNNING
        assert record.private.worker == "worker-a"
    finally:
        lease.stop()


def test_a_claim_is_its_worker_and_its_attempt(workers, job_id):
    a, _ = workers
    first = Lease(a.store, a.claim(job_id), heartbeat_seconds=60, cancel=threading.Event())
    _lapse(a, job_id)
    second = Lease(a.store, a.claim(job_id), heartbeat_seconds=60, cancel=threading.Event())

    with pytest.raises(LeaseLost):
        first.flush()  # the same worker, an earlier claim: it has no say any more
    second.flush()

    record = a.get(job_id)
    assert (record.state, record.private.worker, record.private.attempts) == (
        RUNNING,
        "worker-a",
        2,
    )
