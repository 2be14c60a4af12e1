"""The text-ready -> translations step, in process: Flask's test client of `create_app` with
the storage and Pub/Sub emulators; what the step publishes is read back from a subscription."""

from __future__ import annotations

import pytest

from services.translation.app import create_app
from services.translation.backends.local import LocalBackend
from services.translation.settings import TranslationSettings
from shared.pubsub import PubSubPublisher
from shared.storage import Storage
from tests.conftest import push_envelope

BUCKET = "translation-results"


def push(text: str, **attributes: str) -> dict:
    return push_envelope(
        text.encode(),
        attributes,
        "m-7",
        "projects/test-project/subscriptions/text-ready-translation",
    )


@pytest.fixture(scope="module")
def settings() -> TranslationSettings:
    return TranslationSettings(
        results_bucket=BUCKET,
        output_topic="translations",
        google_cloud_project="test-project",
        target_languages=["es", "ca", "en"],
    )


@pytest.fixture(scope="module")
def backend(settings):
    backend = LocalBackend(settings)
    yield backend
    backend.close()


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
    "sourceUri": "gs://scans/note.png",
    "sourceGeneration": "42",
    "contentType": "text/plain; charset=utf-8",
}


def test_each_target_written_and_published_idempotently(app, gcs):
    text = "The house is red and the dog is big."
    first = app.test_client().post("/events", json=push(text, **SOURCE))
    again = app.test_client().post("/events", json=push(text, **SOURCE))
    assert first.status_code == again.status_code == 200
    body = first.get_json()
    assert body["status"] == "processed"
    assert "en: the text is already in en" in body["reason"]
    bucket = gcs.bucket(BUCKET)
    spanish = bucket.blob("translation/scans/note.png/42.es.txt").download_as_text()
    catalan = bucket.blob("translation/scans/note.png/42.ca.txt").download_as_text()
    assert "casa" in spanish
    assert catalan not in (spanish, text)
    assert not bucket.blob("translation/scans/note.png/42.en.txt").exists()
    messages = app.publisher.messages
    assert len(messages) == 4  # es and ca, twice
    topic, data, attributes = messages[0]
    assert topic == app.publisher.path
    assert data.decode() == spanish
    assert attributes["languageCode"] == "es"
    assert attributes["producer"] == "translation"
    assert attributes["resultUri"] == f"gs://{BUCKET}/translation/scans/note.png/42.es.txt"
    assert messages[2][2]["dedupKey"] == attributes["dedupKey"]
    assert messages[1][2]["dedupKey"] != attributes["dedupKey"]


def test_untranslatable_text_fails_without_retry(app):
    response = app.test_client().post("/events", json=push("Wo ist der Bahnhof, bitte?", **SOURCE))
    assert response.status_code == 200
    assert response.get_json()["status"] == "failed"
    assert app.publisher.messages == []


def test_own_messages_and_other_events_are_ignored(app):
    client = app.test_client()
    own = push("La casa.", producer="translation", sourceUri="gs://scans/note.png")
    assert client.post("/events", json=own).get_json()["status"] == "ignored"
    notification = push("{}", eventType="OBJECT_FINALIZE", bucketId="b", objectId="o")
    assert client.post("/events", json=notification).get_json()["status"] == "ignored"
    assert client.post("/events", json={"nope": True}).status_code == 400
