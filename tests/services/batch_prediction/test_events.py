"""Jobs from events: a job request on Pub/Sub, an input file landing in a bucket; the push is
answered when the job has ended, a completion message goes to the output topic, and bad input
ends as a clear job error (answered 200: retrying cannot help), never a crash loop."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import pull_available
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
)

TRIGGERED = f"gs://{DATA}/triggered"


class DoneTopic:
    """The service's OUTPUT_TOPIC on the Pub/Sub emulator, read back through a subscription."""

    def __init__(self, emulators) -> None:
        tag = uuid.uuid4().hex[:8]
        self.name = f"batch-done-{tag}"
        path = f"projects/test-project/topics/{self.name}"
        self._subscription = f"projects/test-project/subscriptions/read-{tag}"
        self._subscriber = emulators.subscriber()
        emulators.publisher().create_topic(name=path)
        self._subscriber.create_subscription(name=self._subscription, topic=path)

    def messages(self) -> list[tuple[dict, dict]]:
        found = []
        while batch := pull_available(self._subscriber, self._subscription, wait=1.0):
            found += [(json.loads(m.data), dict(m.attributes)) for m in batch]
        return found


@pytest.fixture(scope="module")
def done_topic(emulators):
    return DoneTopic(emulators)


@pytest.fixture(scope="module")
def service(tmp_path_factory, bp, emulators, done_topic):
    env = service_env(
        bp.emulator,
        PUBSUB_EMULATOR_HOST=emulators.pubsub_host,
        OUTPUT_TOPIC=done_topic.name,
        TRIGGER_MODEL="clf@champion",
        TRIGGER_OUTPUT=TRIGGERED,
        TRIGGER_PREFIX="incoming/",
    )
    process = start_service(tmp_path_factory, env, "bp-events")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def emulators(pubsub_emulator, storage_emulator):
    from local.clients import Emulators

    return Emulators(pubsub_emulator, storage_emulator, "test-project")


def _job(url: str, job_id: str) -> dict:
    return get_json(url, f"{PARENT}/batchPredictionJobs/{job_id}")


def test_job_request_message_runs_the_job_and_publishes_completion(bp, service, done_topic):
    X = models.data(1200, seed=21)
    source = f"gs://{DATA}/{unique('msg')}.jsonl"
    upload(bp.gcs, source, jsonl(X.tolist()) + b"oops\n")
    request = {"model": "clf@champion", "input": source, "output": f"gs://{OUT}/msg"}
    done_topic.messages()  # drop what earlier tests published

    answer = push(service.url, request, "4242")

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "processed"
    job = _job(service.url, "msg-4242")
    assert job["state"] == "JOB_STATE_SUCCEEDED"
    assert job["completionStats"]["successfulCount"] == "1200"
    files = outputs(bp.gcs, job["outputInfo"]["gcsOutputDirectory"])
    predicted = [
        line["prediction"] for name in sorted(files) if "pred" in name for line in files[name]
    ]
    assert predicted == bp.clf.predict(X).tolist()
    [(body, attributes)] = done_topic.messages()
    assert attributes["jobName"] == job["name"]
    assert attributes["jobState"] == "JOB_STATE_SUCCEEDED"
    assert attributes["producer"] == "batch_prediction"
    assert attributes["dedupKey"]
    assert body["completionStats"] == job["completionStats"]
    assert body["predictionUris"][0].endswith("/predictions_0001.jsonl")
    assert body["errorUris"] == [job["outputInfo"]["gcsOutputDirectory"] + "/errors_0002.jsonl"]

    again = push(service.url, request, "4242")  # a redelivery: the same job, already done

    assert again.status_code == 200
    assert again.json()["status"] == "processed"
    assert outputs(bp.gcs, job["outputInfo"]["gcsOutputDirectory"]) == files
    assert done_topic.messages() == []


def _notification(name: str, generation: int, event_type: str = "OBJECT_FINALIZE") -> dict:
    return {
        "eventType": event_type,
        "bucketId": DATA,
        "objectId": name,
        "objectGeneration": str(generation),
        "payloadFormat": "JSON_API_V1",
    }


def test_an_input_file_landing_in_the_bucket_starts_a_job(bp, service):
    X = models.data(300, seed=22)
    name = f"incoming/{unique('drop')}.jsonl"
    upload(bp.gcs, f"gs://{DATA}/{name}", jsonl(X.tolist()))
    generation = bp.gcs.bucket(DATA).get_blob(name).generation
    resource = {"bucket": DATA, "name": name, "generation": str(generation)}

    first = push(service.url, resource, "n1", _notification(name, generation))
    second = push(service.url, resource, "n2", _notification(name, generation))

    assert first.status_code == second.status_code == 200, first.text
    assert first.json()["resultUri"] == second.json()["resultUri"]  # the same job
    directory = first.json()["resultUri"]
    assert directory.startswith(f"{TRIGGERED}/prediction-clf-")
    files = outputs(bp.gcs, directory)
    assert [line["prediction"] for line in files["predictions_0001.jsonl"]] == bp.clf.predict(
        X
    ).tolist()
    output_name = directory[len(f"gs://{DATA}/") :] + "/predictions_0001.jsonl"
    own = push(service.url, {}, "n3", _notification(output_name, 1))
    assert own.json()["status"] == "ignored"
    other = push(service.url, {}, "n4", _notification("elsewhere/x.jsonl", 1))
    assert other.json()["status"] == "ignored"
    deleted = push(service.url, {}, "n5", _notification(name, generation, "OBJECT_DELETE"))
    assert deleted.json()["status"] == "ignored"


def _other_jobs_files(bp) -> str:
    directory = f"gs://{OUT}/{unique('taken')}"
    blob = bp.gcs.bucket(OUT).blob(directory[len(f"gs://{OUT}/") :] + "/predictions_0001.jsonl")
    blob.metadata = {"mlapi-job": f"{PARENT}/batchPredictionJobs/someone-else"}
    blob.upload_from_string(b'{"instance": [1], "prediction": 0}\n')
    return directory


BAD_INPUTS = {
    "empty file": (b"", {}, 3, "no instances"),
    "blank lines only": (b"\n\n  \n", {}, 3, "no instances"),
    "wrong format": (b"f0,f1\n1,2\n3,4\n", {}, 3, "All 3 instances failed"),
    "missing model": (b"[1]\n", {"model": "ghost@champion"}, 5, "ghost"),
    "missing input": (None, {"input": f"gs://{DATA}/nothing-here.jsonl"}, 5, "matches no object"),
    "unknown format": (b"[1]\n", {"format": "tf-record"}, 3, "instancesFormat"),
    "unknown field": (b"[1]\n", {"colour": "red"}, 3, "colour"),
    "output held by another job": (b"[1]\n", {"outputDirectory": "TAKEN"}, 9, "did not write"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_clear_job_error_answered_200(bp, service, case):
    data, overrides, code, message = BAD_INPUTS[case]
    source = f"gs://{DATA}/{unique('bad')}.jsonl"
    if data is not None:
        upload(bp.gcs, source, data)
    request = {"model": "clf@champion", "input": source, "output": f"gs://{OUT}/bad"}
    request.update(overrides)
    if request.get("outputDirectory") == "TAKEN":
        request["outputDirectory"] = _other_jobs_files(bp)
    message_id = unique("bad")

    answer = push(service.url, request, message_id)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "failed"
    job = _job(service.url, f"msg-{message_id}")
    assert job["state"] == "JOB_STATE_FAILED"
    assert job["error"]["code"] == code
    assert message in job["error"]["message"]
    assert service.alive()


def test_a_message_that_is_not_json_gets_a_failed_job(service):
    answer = push(service.url, b"\xff not json", "nj-1")

    assert answer.status_code == 200
    job = _job(service.url, "msg-nj-1")
    assert job["state"] == "JOB_STATE_FAILED"
    assert "not JSON" in job["error"]["message"]


def test_an_undecodable_event_is_400(service):
    import requests

    answer = requests.post(f"{service.url}/events", json={"hello": "world"}, timeout=10)
    assert answer.status_code == 400
