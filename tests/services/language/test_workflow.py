"""The text-ready -> annotations step, in process: Flask's test client of `create_app` with the
storage and Pub/Sub emulators; what the step publishes is read back from a subscription."""

from __future__ import annotations

import json

import pytest

from services.language.app import create_app
from services.language.backends.local import LocalBackend
from services.language.settings import LanguageSettings
from shared.pubsub import PubSubPublisher
from shared.storage import Storage
from tests.conftest import push_envelope

BUCKET = "language-results"


def push(text: str, message_id: str = "m-1", **attributes: str) -> dict:
    return push_envelope(
        text.encode(),
        attributes,
        message_id,
        "projects/test-project/subscriptions/text-ready-language",
    )


@pytest.fixture(scope="module")
def settings() -> LanguageSettings:
    return LanguageSettings(
        results_bucket=BUCKET, output_topic="annotations", google_cloud_project="test-project"
    )


@pytest.fixture(scope="module")
def backend(settings):
    return LocalBackend(settings, Storage("test-project"))


@pytest.fixture
def app(settings, backend, gcs, output_topic):
    if not gcs.bucket(BUCKET).exists():
        gcs.create_bucket(BUCKET)
    app = create_app(
        settings.model_copy(update={"output_topic": output_topic.name}),
        backend=backend,
        storage=Storage("test-project"),
        publisher=PubSubPublisher(),
    )
    app.publisher = output_topic  # where the test reads what the step published
    return app


SOURCE = {
    "producer": "vision",
    "sourceUri": "gs://scans/letter.png",
    "sourceGeneration": "1712",
    "contentType": "text/plain; charset=utf-8",
    "dedupKey": "abc",
}


def test_annotations_written_and_published_idempotently(app, gcs):
    text = "Angela Merkel loved her visit to Paris. The food was wonderful."
    first = app.test_client().post("/events", json=push(text, **SOURCE, languageCode="en"))
    again = app.test_client().post("/events", json=push(text, **SOURCE, languageCode="en"))
    assert first.status_code == again.status_code == 200
    body = first.get_json()
    assert body["status"] == "processed"
    assert body["resultUri"] == f"gs://{BUCKET}/language/scans/letter.png/1712.json"
    assert again.get_json()["resultUri"] == body["resultUri"]
    stored = json.loads(
        gcs.bucket(BUCKET).blob("language/scans/letter.png/1712.json").download_as_bytes()
    )
    assert {e["name"] for e in stored["entities"]} >= {"Angela Merkel", "Paris"}
    assert stored["documentSentiment"]["score"] > 0
    (topic, data, attributes), (_, _, again_attributes) = app.publisher.messages
    assert topic == app.publisher.path
    assert json.loads(data)["language"] == "en"
    assert attributes["producer"] == "language"
    assert attributes["sourceUri"] == "gs://scans/letter.png"
    assert attributes["resultUri"] == body["resultUri"]
    assert attributes["dedupKey"] == again_attributes["dedupKey"]


def test_unsupported_language_is_recorded_not_retried(app, gcs):
    response = app.test_client().post(
        "/events",
        json=push(
            "Le chat dort sur le canapé pendant que nous mangeons.",
            **{**SOURCE, "sourceGeneration": "9"},
        ),
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "failed"
    stored = json.loads(
        gcs.bucket(BUCKET).blob("language/scans/letter.png/9.json").download_as_bytes()
    )
    assert stored["error"]["status"] == "INVALID_ARGUMENT"
    assert app.publisher.messages == []


def test_not_text_ready_and_undecodable_events(app):
    client = app.test_client()
    storage_event = push("{}", eventType="OBJECT_FINALIZE", bucketId="b", objectId="o")
    assert client.post("/events", json=storage_event).get_json()["status"] == "ignored"
    assert client.post("/events", json={"hello": 1}).status_code == 400
    own = push("Hello.", producer="language")
    assert client.post("/events", json=own).get_json()["status"] == "ignored"
