"""A job whose process is killed (SIGKILL) half-way ends, after a restart and a redelivery (or
the recovery of a REST-created job), with each row exactly once: finished shards are kept,
the interrupted one is rewritten whole."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from tests.services.batch_prediction import models
from tests.services.batch_prediction.conftest import (
    DATA,
    OUT,
    PARENT,
    get_json,
    jsonl,
    outputs,
    push,
    service_env,
    start_service,
    unique,
    upload,
    wait_for,
    wait_terminal,
)

ROWS = 12_000


def _env(bp) -> dict[str, str]:
    # Small shards, so the job has many and is killed between two of them (or inside one).
    return service_env(bp.emulator, SHARD_BYTES="8192", CHUNK_SIZE="40", LEASE_SECONDS="2")


@pytest.fixture
def data(bp):
    X = models.data(ROWS, seed=31)
    source = f"gs://{DATA}/{unique('restart')}.jsonl"
    upload(bp.gcs, source, jsonl(X.tolist()))
    return X, source


def _kill_when_started(service, job_name: str) -> dict:
    """SIGKILL the service once the job has finished some rows, and before it has ended."""
    job = wait_for(
        lambda: (
            (j := _find(service.url, job_name))
            and int(j["completionStats"]["successfulCount"]) > 0
            and j
        ),
        timeout=60,
        interval=0.02,
    )
    service.kill()
    assert job["state"] == "JOB_STATE_RUNNING", "the job ended before it could be killed"
    return job


def _find(url: str, name: str) -> dict | None:
    import requests

    response = requests.get(f"{url}/v1/{name}", timeout=10)
    return response.json() if response.status_code == 200 else None


def _assert_each_row_once(bp, job: dict, X) -> None:
    assert job["state"] == "JOB_STATE_SUCCEEDED", job.get("error")
    assert job["completionStats"]["successfulCount"] == str(ROWS)
    files = outputs(bp.gcs, job["outputInfo"]["gcsOutputDirectory"])
    names = sorted(files)
    assert names == [f"predictions_{i:04d}.jsonl" for i in range(1, len(names) + 1)]
    lines = [line for name in names for line in files[name]]
    assert [line["instance"] for line in lines] == X.tolist()
    assert [line["prediction"] for line in lines] == bp.clf.predict(X).tolist()


def test_pubsub_job_killed_half_way_is_finished_by_the_redelivery(bp, tmp_path_factory, data):
    X, source = data
    request = {"model": "clf@champion", "input": source, "output": f"gs://{OUT}/restart"}
    message_id = unique("kill")
    job_name = f"{PARENT}/batchPredictionJobs/msg-{message_id}"
    first = start_service(tmp_path_factory, _env(bp), "bp-kill-1")
    delivery = threading.Thread(target=_push_ignoring_errors, args=(first.url, request, message_id))
    delivery.start()
    try:
        killed = _kill_when_started(first, job_name)
    finally:
        delivery.join(timeout=30)
        first.stop()
    assert int(killed["completionStats"]["successfulCount"]) < ROWS

    second = start_service(tmp_path_factory, _env(bp), "bp-kill-2")
    try:
        # Pub/Sub redelivers until it gets a 2xx: 503 while the dead worker's lease runs.
        answers = []
        wait_for(
            lambda: (
                answers.append(push(second.url, request, message_id).status_code)
                or answers[-1] == 200
            ),
            timeout=90,
            interval=0.3,
        )
        assert set(answers) <= {200, 503}
        _assert_each_row_once(bp, get_json(second.url, job_name), X)
    finally:
        second.stop()


def _push_ignoring_errors(url: str, request: dict, message_id: str) -> None:
    with contextlib.suppress(Exception):  # the service is killed while the push waits
        push(url, request, message_id)


def test_rest_job_killed_half_way_is_resumed_after_a_restart(bp, tmp_path_factory, data):
    import requests

    X, source = data
    first = start_service(tmp_path_factory, _env(bp), "bp-kill-3")
    try:
        body = {
            "displayName": "resume-me",
            "model": "clf@champion",
            "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [source]}},
            "outputConfig": {"gcsDestination": {"outputUriPrefix": f"gs://{OUT}/resume"}},
        }
        created = requests.post(
            f"{first.url}/v1/{PARENT}/batchPredictionJobs", json=body, timeout=30
        ).json()
        started = time.monotonic()
        _kill_when_started(first, created["name"])
    finally:
        first.stop()

    second = start_service(tmp_path_factory, _env(bp), "bp-kill-4")
    try:
        job = wait_terminal(lambda: get_json(second.url, created["name"]), timeout=90)
        _assert_each_row_once(bp, job, X)
        assert time.monotonic() - started > 2  # resumed only once the dead worker's lease ran out
    finally:
        second.stop()
