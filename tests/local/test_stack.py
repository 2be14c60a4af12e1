"""The pipeline end to end on the local stack: image -> bucket notification -> Pub/Sub push ->
vision -> result object + message on text-ready; audio the same way through speech. Every part
is a real process."""

from __future__ import annotations

import json
import time

import pytest

from deploy.topology import DEFAULT_PATH, RetryPolicy, load
from local.harness import free_port
from local.samples import TextImage, png_bytes, render
from local.stack import Stack, free_ports_for
from tests.conftest import pull_available

PROJECT = "stack-test"
IMAGES, RESULTS = f"{PROJECT}-images", f"{PROJECT}-results"
SINK = f"projects/{PROJECT}/subscriptions/text-ready-sink"
DEAD = f"projects/{PROJECT}/subscriptions/vision-dead-letters"


def _fast_retries(topology):
    """The shipped topology with 1-2 s push backoff (10-600 s in production) to keep tests short."""
    sub = topology.subscriptions["vision-images"].model_copy(
        update={"retry_policy": RetryPolicy(minimum_backoff="1s", maximum_backoff="2s")}
    )
    return topology.model_copy(
        update={"subscriptions": {**topology.subscriptions, "vision-images": sub}}
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs: list[str] = []
    topology = load(DEFAULT_PATH)
    stack = Stack(
        _fast_retries(topology),
        project=PROJECT,
        data_dir=tmp_path_factory.mktemp("stack"),
        pubsub_port=free_port(),
        storage_port=free_port(),
        service_ports=free_ports_for(topology),
        log_sink=lambda name, line: logs.append(f"{name} | {line}"),
    )
    stack.logs = logs
    with stack:
        yield stack


def _drain(stack, subscription: str, until, timeout: float = 30.0) -> list:
    """Pull and acknowledge until `until(messages)` holds or the time is up."""
    subscriber, messages = stack.emulators.subscriber(), []
    deadline = time.monotonic() + timeout
    while not until(messages) and time.monotonic() < deadline:
        messages += pull_available(subscriber, subscription)
    return messages


def _for(source: str):
    return lambda messages: any(m.attributes.get("sourceUri") == source for m in messages)


def _upload(stack, name: str, text: str) -> str:
    bucket = stack.emulators.storage().bucket(IMAGES)
    bucket.blob(name).upload_from_string(
        png_bytes(render(TextImage((text,), size=30))), content_type="image/png"
    )
    return f"gs://{IMAGES}/{name}"


def test_wiring_is_in_place(stack):
    # Created, or already there (a service may create a bucket it needs while starting).
    assert {c.action for c in stack.changes} <= {"created", "unchanged"}
    assert all(c.action == "created" for c in stack.changes if c.kind == "subscription")
    assert all(stack.alive().values())
    assert {c.action for c in stack.wire()} == {"unchanged"}  # idempotent


def test_an_uploaded_image_comes_out_as_text(stack):
    started = time.monotonic()
    source = _upload(stack, "e2e/hello.png", "Hello from the pipeline")
    messages = _drain(stack, SINK, _for(source))
    elapsed = time.monotonic() - started
    [message] = [m for m in messages if m.attributes["sourceUri"] == source]
    assert message.data.decode().strip() == "Hello from the pipeline"
    assert elapsed < 30
    result_uri = message.attributes["resultUri"]
    bucket, _, name = result_uri.removeprefix("gs://").partition("/")
    stored = json.loads(stack.emulators.storage().bucket(bucket).blob(name).download_as_bytes())
    assert stored["fullTextAnnotation"]["text"].strip() == "Hello from the pipeline"


def test_a_failing_step_is_retried_and_writes_exactly_one_result(stack):
    storage = stack.emulators.storage()
    results = storage.bucket(RESULTS)
    for blob in results.list_blobs():
        blob.delete()
    results.delete()  # the step cannot write its result: it answers non-2xx
    source = _upload(stack, "e2e/retry.png", "Try again later")
    deadline = time.monotonic() + 20
    while not any("POST /events 404" in line for line in stack.logs):
        assert time.monotonic() < deadline, "the failing delivery never happened"
        time.sleep(0.1)
    storage.create_bucket(RESULTS)  # the dependency is back; the redelivery succeeds
    messages = _drain(stack, SINK, _for(source))
    assert len([m for m in messages if m.attributes["sourceUri"] == source]) == 1
    written = [
        b.name
        for b in storage.bucket(RESULTS).list_blobs(prefix="vision/")
        if "retry.png" in b.name
    ]
    assert len(written) == 1


def test_a_poison_message_is_dead_lettered_and_nothing_else_is_lost(stack):
    publisher = stack.emulators.publisher()
    poison_id = publisher.publish(
        f"projects/{PROJECT}/topics/images-finalized",
        b"this is not JSON",
        eventType="OBJECT_FINALIZE",
        payloadFormat="JSON_API_V1",
        bucketId=IMAGES,
        objectId="poison.png",
        objectGeneration="1",
    ).result()
    source = _upload(stack, "e2e/innocent.png", "Innocent bystander")
    assert _for(source)(_drain(stack, SINK, _for(source)))
    dead = _drain(stack, DEAD, lambda messages: bool(messages), timeout=40)
    [message] = dead
    assert message.data == b"this is not JSON"
    assert message.attributes["objectId"] == "poison.png"
    assert message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert message.attributes["CloudPubSubDeadLetterSourceSubscription"] == "vision-images"
    assert poison_id


def test_an_image_ends_as_language_and_translation_results(stack):
    source = _upload(stack, "e2e/story.png", "Barack Obama visited London in May.")
    language = _drain(stack, f"projects/{PROJECT}/subscriptions/language-done-sink", _for(source))
    [annotated] = [m for m in language if m.attributes["sourceUri"] == source]
    result = json.loads(annotated.data)
    entities = {e["name"]: e["type"] for e in result["entities"]}
    assert entities.get("London") == "LOCATION"
    assert entities.get("Barack Obama") == "PERSON"
    assert annotated.attributes["producer"] == "language"

    translation = _drain(
        stack, f"projects/{PROJECT}/subscriptions/translation-done-sink", _for(source)
    )
    [translated] = [m for m in translation if m.attributes["sourceUri"] == source]
    assert translated.attributes["producer"] == "translation"
    text = translated.data.decode()
    assert text.strip()
    assert text.strip() != "Barack Obama visited London in May."
    assert "Londres" in text or "London" in text


def test_an_uploaded_wav_ends_as_language_and_translation_results(stack, tmp_path_factory):
    from tests.services.speech.conftest import find_testdata, word_error_rate

    clip = find_testdata(tmp_path_factory).librivox[0]  # "...mister John Dashwood had..."
    bucket = stack.emulators.storage().bucket(f"{PROJECT}-audio")
    bucket.blob("e2e/dashwood.wav").upload_from_string(clip.data, content_type="audio/wav")
    source = f"gs://{PROJECT}-audio/e2e/dashwood.wav"
    # The first audio event loads Whisper (~5 s) before recognising.
    text_ready = _drain(stack, SINK, _for(source), timeout=90)
    [spoken] = [m for m in text_ready if m.attributes["sourceUri"] == source]
    assert spoken.attributes["producer"] == "speech"
    assert word_error_rate([clip.transcript], [spoken.data.decode()]) <= 0.10

    language = _drain(stack, f"projects/{PROJECT}/subscriptions/language-done-sink", _for(source))
    [annotated] = [m for m in language if m.attributes["sourceUri"] == source]
    entities = {e["name"]: e["type"] for e in json.loads(annotated.data)["entities"]}
    assert entities.get("John Dashwood") == "PERSON", entities
    translation = _drain(
        stack, f"projects/{PROJECT}/subscriptions/translation-done-sink", _for(source)
    )
    [translated] = [m for m in translation if m.attributes["sourceUri"] == source]
    assert translated.attributes["languageCode"] == "es"
    assert translated.data.decode().strip()


def test_the_vertex_host_routes_to_the_stacks_services(stack):
    """`mlapi up` starts the topology's Vertex AI host: one port for prediction's models and
    endpoints and batch prediction's jobs."""
    import requests

    host = stack.service_url("vertex")
    assert ("vertex", host, "one host for endpoints, models, batchPredictionJobs") in (
        stack.endpoints()
    )
    location = f"{host}/v1/projects/{PROJECT}/locations/us-central1"
    for collection in ("models", "endpoints", "batchPredictionJobs"):
        response = requests.get(f"{location}/{collection}", timeout=30)
        assert response.status_code == 200, (collection, response.text)
