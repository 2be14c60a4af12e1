"""The job API through the official google-cloud-aiplatform JobServiceClient (REST), against the
service as a real process, with inputs and outputs in the storage emulator."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import numpy as np
import pytest
from google.api_core import exceptions
from google.cloud.aiplatform_v1 import types

from tests.services.batch_prediction import models
from tests.services.batch_prediction.conftest import (
    DATA,
    JOBS,
    OUT,
    PARENT,
    job_client,
    jsonl,
    outputs,
    service_env,
    start_service,
    unique,
    upload,
    wait_terminal,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory, bp):
    process = start_service(tmp_path_factory, service_env(bp.emulator, MAX_CONCURRENT_JOBS="2"))
    yield process
    process.stop()


@pytest.fixture(scope="module")
def client(service):
    return job_client(service.url)


def _job(model: str, inputs: list[str], output: str, **extra) -> types.BatchPredictionJob:
    return types.BatchPredictionJob(
        display_name=unique("job"),
        model=model,
        input_config=types.BatchPredictionJob.InputConfig(
            instances_format=extra.pop("instances_format", "jsonl"),
            gcs_source=types.GcsSource(uris=inputs),
        ),
        output_config=types.BatchPredictionJob.OutputConfig(
            predictions_format="jsonl",
            gcs_destination=types.GcsDestination(output_uri_prefix=output),
        ),
        **extra,
    )


def _run(client, job: types.BatchPredictionJob, timeout: float = 90.0) -> types.BatchPredictionJob:
    created = client.create_batch_prediction_job(parent=PARENT, batch_prediction_job=job)
    return wait_terminal(lambda: client.get_batch_prediction_job(name=created.name), timeout)


def test_a_few_thousand_rows_give_the_in_process_predictions_in_vertex_layout(bp, client):
    X = models.data(3000, seed=11)
    lines = jsonl(X.tolist()).splitlines(keepends=True)
    bad = {100: b"this is not json\n", 1500: b'{"instance": [1.0, 2.0]}\n', 2999: b"[1, null]\n"}
    for index, line in bad.items():
        lines[index] = line
    source = f"gs://{DATA}/{unique('rows')}.jsonl"
    upload(bp.gcs, source, b"".join(lines))

    job = _run(client, _job("clf@champion", [source], f"gs://{OUT}/api"))

    assert job.state == types.JobState.JOB_STATE_SUCCEEDED, job.error
    assert job.model_version_id == "1"
    assert (job.completion_stats.successful_count, job.completion_stats.failed_count) == (2997, 3)
    directory = job.output_info.gcs_output_directory
    assert directory.startswith(f"gs://{OUT}/api/prediction-clf-")
    files = outputs(bp.gcs, directory)
    shards = sorted(n for n in files if n.startswith("predictions_"))
    assert shards == [f"predictions_{i:04d}.jsonl" for i in range(1, len(shards) + 1)]
    assert len(shards) > 1  # SHARD_BYTES=64 KiB: several files, numbered as Vertex does
    predicted = [line for name in shards for line in files[name]]
    good = [i for i in range(3000) if i not in bad]
    expected = bp.clf.predict(X[good]).tolist()
    assert [p["instance"] for p in predicted] == X[good].tolist()
    assert [p["prediction"] for p in predicted] == expected
    errors = [line for name in sorted(files) if name.startswith("errors_") for line in files[name]]
    assert [e["instance"] for e in errors] == ["this is not json", [1.0, 2.0], [1, None]]
    assert all(e["error"]["code"] == 3 and e["error"]["message"] for e in errors)


def test_key_field_and_object_instances_and_version_reference(bp, client):
    X = models.data(50, seed=12)
    rows = [{"id": f"row-{i}", **dict(zip(models.NAMES, r, strict=True))} for i, r in enumerate(X)]
    source = f"gs://{DATA}/{unique('keyed')}.jsonl"
    upload(bp.gcs, source, jsonl(rows, wrap=False))
    job = _job(
        "projects/test-project/locations/us-central1/models/reg@beta",
        [source],
        f"gs://{OUT}/keyed",
        instance_config=types.BatchPredictionJob.InstanceConfig(key_field="id"),
    )

    done = _run(client, job)

    assert done.state == types.JobState.JOB_STATE_SUCCEEDED, done.error
    lines = outputs(bp.gcs, done.output_info.gcs_output_directory)["predictions_0001.jsonl"]
    assert [line["key"] for line in lines] == [f"row-{i}" for i in range(50)]
    assert "instance" not in lines[0]
    np.testing.assert_allclose([line["prediction"] for line in lines], bp.reg.predict(X))


def test_csv_input_with_header(bp, client):
    X = models.data(40, seed=13)
    header = ",".join(reversed(models.NAMES))  # columns matched by name, not position
    body = header + "\n" + "\n".join(",".join(str(v) for v in reversed(r)) for r in X.tolist())
    source = f"gs://{DATA}/{unique('table')}.csv"
    upload(bp.gcs, source, body + "\n")

    done = _run(client, _job("clf", [source], f"gs://{OUT}/csv", instances_format="csv"))

    assert done.state == types.JobState.JOB_STATE_SUCCEEDED, done.error
    lines = outputs(bp.gcs, done.output_info.gcs_output_directory)["predictions_0001.jsonl"]
    assert [line["prediction"] for line in lines] == bp.clf.predict(X).tolist()


def test_list_pages_and_get(bp, client):
    source = f"gs://{DATA}/{unique('small')}.jsonl"
    upload(bp.gcs, source, jsonl(models.data(5).tolist()))
    names = {
        _run(client, _job("clf@champion", [source], f"gs://{OUT}/list")).name for _ in range(3)
    }

    listed = list(client.list_batch_prediction_jobs(request={"parent": PARENT, "page_size": 2}))

    assert names <= {job.name for job in listed}
    states = {job.state for job in listed}
    assert types.JobState.JOB_STATE_SUCCEEDED in states
    running = client.list_batch_prediction_jobs(
        request={"parent": PARENT, "filter": 'state="JOB_STATE_RUNNING"'}
    )
    assert all(job.state == types.JobState.JOB_STATE_RUNNING for job in running)


def test_cancel_a_running_job(bp, client):
    source = f"gs://{DATA}/{unique('long')}.jsonl"
    upload(bp.gcs, source, jsonl(models.data(20000, seed=14).tolist()))
    job = _job(
        "clf@champion",
        [source],
        f"gs://{OUT}/cancel",
        manual_batch_tuning_parameters=types.ManualBatchTuningParameters(batch_size=50),
    )
    created = client.create_batch_prediction_job(parent=PARENT, batch_prediction_job=job)

    client.cancel_batch_prediction_job(name=created.name)
    done = wait_terminal(lambda: client.get_batch_prediction_job(name=created.name))

    assert done.state == types.JobState.JOB_STATE_CANCELLED
    assert done.error.code == 1  # google.rpc.Code.CANCELLED
    with pytest.raises(exceptions.BadRequest, match="already JOB_STATE_CANCELLED"):
        client.cancel_batch_prediction_job(name=created.name)


def test_missing_model_and_bad_requests_are_refused_at_creation(bp, client):
    source = f"gs://{DATA}/x.jsonl"
    with pytest.raises(exceptions.NotFound, match="Model 'nosuchmodel' does not exist"):
        client.create_batch_prediction_job(
            parent=PARENT, batch_prediction_job=_job("nosuchmodel@champion", [source], "gs://o/p")
        )
    with pytest.raises(exceptions.BadRequest, match="instancesFormat"):
        client.create_batch_prediction_job(
            parent=PARENT,
            batch_prediction_job=_job("clf", [source], "gs://o/p", instances_format="bigquery"),
        )
    with pytest.raises(exceptions.BadRequest, match="gs://"):
        client.create_batch_prediction_job(
            parent=PARENT, batch_prediction_job=_job("clf", ["/etc/passwd"], "gs://o/p")
        )
    with pytest.raises(exceptions.NotFound):
        client.get_batch_prediction_job(name=f"{PARENT}/batchPredictionJobs/123")


def test_beam_engine_gives_the_local_engines_files(bp, client):
    pytest.importorskip("apache_beam")
    X = models.data(2000, seed=15)
    lines = jsonl(X.tolist()).splitlines(keepends=True)
    lines[7] = b"{broken\n"
    source = f"gs://{DATA}/{unique('beam')}.jsonl"
    upload(bp.gcs, source, b"".join(lines))

    local = _run(client, _job("clf@champion", [source], f"gs://{OUT}/engines"))
    beam = _run(
        client,
        _job("clf@champion", [source], f"gs://{OUT}/engines", labels={"engine": "beam"}),
        timeout=120,
    )

    assert local.state == beam.state == types.JobState.JOB_STATE_SUCCEEDED, beam.error
    assert beam.completion_stats.successful_count == local.completion_stats.successful_count
    local_files = outputs(bp.gcs, local.output_info.gcs_output_directory)
    beam_files = outputs(bp.gcs, beam.output_info.gcs_output_directory)
    assert json.dumps(beam_files, sort_keys=True) == json.dumps(local_files, sort_keys=True)
    assert len(local_files) > 2


@pytest.fixture(scope="module")
def two_workers_service(tmp_path_factory, bp):
    env = service_env(bp.emulator, SCORING_PROCESSES="2")  # the same SHARD_BYTES: the same files
    process = start_service(tmp_path_factory, env, "bp-workers")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def two_workers(two_workers_service):
    return job_client(two_workers_service.url)


def _scoring_processes(pid: int) -> list[int]:
    """The multiprocessing children in `pid`'s process tree."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            for child in map(int, children.read_text().split()):
                todo.append(child)
                with contextlib.suppress(OSError):
                    if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                        found.append(child)
    return found


def test_the_scoring_processes_start_with_the_service_before_any_request(tmp_path_factory, bp):
    # Not even the health route is asked: on Cloud Run the first request may be a job's.
    env = service_env(bp.emulator, SCORING_PROCESSES="2")
    service = start_service(tmp_path_factory, env, "bp-starting", wait_ready=False)
    try:
        deadline = time.monotonic() + 30
        while len(_scoring_processes(service.process.pid)) < 2:
            assert service.alive(), service.logs()
            assert time.monotonic() < deadline, "no scoring processes without a request"
            time.sleep(0.1)
    finally:
        service.stop()


def test_two_worker_processes_write_what_one_process_writes(bp, client, two_workers):
    X = models.data(2500, seed=16)
    lines = jsonl(X.tolist()).splitlines(keepends=True)
    lines[1234] = b"[1, 2, 3]\n"
    source = f"gs://{DATA}/{unique('workers')}.jsonl"
    upload(bp.gcs, source, b"".join(lines))
    job = _job("clf@champion", [source], f"gs://{OUT}/workers")
    job.manual_batch_tuning_parameters = types.ManualBatchTuningParameters(batch_size=300)

    one = _run(client, job)
    two = _run(two_workers, job, timeout=120)

    assert one.state == two.state == types.JobState.JOB_STATE_SUCCEEDED, two.error
    assert (two.completion_stats.successful_count, two.completion_stats.failed_count) == (2499, 1)
    assert outputs(bp.gcs, one.output_info.gcs_output_directory) == outputs(
        bp.gcs, two.output_info.gcs_output_directory
    )


def test_nothing_invalid_is_stored_and_an_unreadable_record_is_left_out(bp, service, client):
    import requests

    jobs_url = f"{service.url}/v1/{PARENT}/batchPredictionJobs"
    before = {job.name for job in client.list_batch_prediction_jobs(parent=PARENT)}
    body = {
        "displayName": unique("huge"),
        "model": "clf",
        "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [f"gs://{DATA}/x"]}},
        "outputConfig": {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": "gs://o/p"},
        },
        "manualBatchTuningParameters": {"batchSize": 10},
    }
    for bad in (
        {"manualBatchTuningParameters": {"batchSize": 10**30}},
        {"manualBatchTuningParameters": {"batchSize": "x"}},
        {"inputConfig": "x"},
        {"labels": "x"},
    ):
        response = requests.post(jobs_url, json={**body, **bad}, timeout=10)
        assert response.status_code == 400, response.text
        assert "Invalid value at 'batch_prediction_job." in response.json()["error"]["message"]

    # A record that cannot be read (written by hand, a bad deploy...) is skipped in listings.
    upload(bp.gcs, f"gs://{JOBS}/batchPredictionJobs/999999.json", b"{not json")
    listed = {job.name for job in client.list_batch_prediction_jobs(parent=PARENT)}
    assert before <= listed
    assert not any(name.endswith("/999999") for name in listed)
    # Asked for by name, it is Google's DATA_LOSS, not a crash.
    unreadable = requests.get(f"{jobs_url}/999999", timeout=10)
    assert unreadable.json()["error"]["status"] == "DATA_LOSS"
