"""The image -> text step, fed real-format events; Cloud Storage and Pub/Sub are the local
emulators, the OCR engine and the app are real. What the step publishes is read back from a
subscription on its output topic."""

from __future__ import annotations

import json
import socket

import pytest
from google.cloud import vision

from local.samples import TextImage, png_bytes, render
from services.vision.app import create_app
from services.vision.settings import VisionSettings
from shared.pubsub import PubSubPublisher
from shared.storage import Storage
from tests.conftest import push_envelope

IMAGES, RESULTS = "wf-images", "wf-results"


@pytest.fixture(scope="module")
def buckets(storage_emulator):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        client = storage.Client(project="test-project", credentials=AnonymousCredentials())
        yield client.create_bucket(IMAGES), client.create_bucket(RESULTS)


def _settings(**overrides) -> VisionSettings:
    values = {
        "results_bucket": RESULTS,
        "output_topic": "text-ready",
        "google_cloud_project": "test-project",
        "log_format": "json",
    }
    return VisionSettings.from_env("vision", environ={}, **{**values, **overrides})


@pytest.fixture
def publisher(output_topic):
    return output_topic


@pytest.fixture
def app(storage_env, buckets, publisher):
    return create_app(_settings(output_topic=publisher.name), publisher=PubSubPublisher())


def _upload(bucket, name: str, data: bytes, content_type: str = "image/png"):
    blob = bucket.blob(name)
    blob.upload_from_string(data, content_type=content_type)
    blob.reload()
    return blob


def _resource(blob) -> dict:
    return {
        "kind": "storage#object",
        "bucket": blob.bucket.name,
        "name": blob.name,
        "generation": str(blob.generation),
        "metageneration": "1",
        "contentType": blob.content_type,
        "size": str(blob.size),
    }


def _push(blob, event_type="OBJECT_FINALIZE", message_id="1001") -> tuple[dict, bytes]:
    """A Cloud Storage notification as Pub/Sub pushes it (wrapped)."""
    attributes = {
        "eventType": event_type,
        "payloadFormat": "JSON_API_V1",
        "bucketId": blob.bucket.name,
        "objectId": blob.name,
        "objectGeneration": str(blob.generation),
        "notificationConfig": "projects/_/buckets/x/notificationConfigs/1",
    }
    body = push_envelope(
        json.dumps(_resource(blob)).encode(),
        attributes,
        message_id,
        "projects/test-project/subscriptions/vision",
    )
    return {"Content-Type": "application/json"}, json.dumps(body).encode()


def _binary_cloudevent(blob) -> tuple[dict, bytes]:
    headers = {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": "77",
        "ce-source": f"//storage.googleapis.com/projects/_/buckets/{blob.bucket.name}",
        "ce-type": "google.cloud.storage.object.v1.finalized",
        "ce-subject": f"objects/{blob.name}",
    }
    return headers, json.dumps(_resource(blob)).encode()


def _structured_cloudevent(blob) -> tuple[dict, bytes]:
    event = {
        "specversion": "1.0",
        "id": "78",
        "type": "google.cloud.storage.object.v1.finalized",
        "source": f"//storage.googleapis.com/projects/_/buckets/{blob.bucket.name}",
        "data": _resource(blob),
    }
    return {"Content-Type": "application/cloudevents+json"}, json.dumps(event).encode()


def _deliver(app, headers, body):
    return app.test_client().post("/events", data=body, headers=headers)


@pytest.mark.parametrize("shape", [_push, _binary_cloudevent, _structured_cloudevent])
def test_image_becomes_a_result_and_a_text_message(app, buckets, publisher, shape):
    images, results = buckets
    blob = _upload(
        images,
        f"in/{shape.__name__}.png",
        png_bytes(render(TextImage(("Pipeline text arrives",), size=30))),
    )
    response = _deliver(app, *shape(blob))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "processed"

    name = f"vision/{IMAGES}/{blob.name}/{blob.generation}.json"
    stored = vision.AnnotateImageResponse.from_json(
        results.blob(name).download_as_bytes(), ignore_unknown_fields=False
    )
    assert "Pipeline text arrives" in stored.full_text_annotation.text

    [(topic, data, attributes)] = publisher.messages
    assert topic == publisher.path
    assert data.decode() == stored.full_text_annotation.text
    assert attributes["sourceUri"] == f"gs://{IMAGES}/{blob.name}"
    assert attributes["sourceGeneration"] == str(blob.generation)
    assert attributes["resultUri"] == f"gs://{RESULTS}/{name}"
    assert attributes["languageCode"] == "en"
    assert attributes["producer"] == "vision"


def test_redelivery_rewrites_the_same_result(app, buckets, publisher):
    images, results = buckets
    blob = _upload(images, "in/twice.png", png_bytes(render(TextImage(("Only once",), size=30))))
    first = _deliver(app, *_push(blob, message_id="5")).get_json()
    second = _deliver(app, *_push(blob, message_id="5")).get_json()
    assert first["resultUri"] == second["resultUri"]
    prefix = f"vision/{IMAGES}/in/twice.png/"
    assert [b.name for b in results.list_blobs(prefix=prefix)] == [
        f"{prefix}{blob.generation}.json"
    ]
    messages = publisher.messages
    keys = {attributes["dedupKey"] for _, _, attributes in messages}
    assert len(messages) == 2
    assert len(keys) == 1  # downstream can tell it is the same input


def test_not_an_image_is_acknowledged_with_an_error_result(app, buckets, publisher):
    images, results = buckets
    blob = _upload(images, "in/notes.txt", b"plain text, not an image", "text/plain")
    response = _deliver(app, *_push(blob))
    assert response.status_code == 200
    assert response.get_json()["status"] == "failed"
    stored = json.loads(
        results.blob(f"vision/{IMAGES}/in/notes.txt/{blob.generation}.json").download_as_bytes()
    )
    assert stored["error"] == {"code": 3, "message": "Bad image data."}
    assert publisher.messages == []


def test_deleted_object_is_ignored(app, buckets, publisher):
    images, _ = buckets
    blob = _upload(images, "in/gone.png", png_bytes(render(TextImage(("x",)))))
    response = _deliver(app, *_push(blob, event_type="OBJECT_DELETE"))
    assert response.get_json()["status"] == "ignored"
    assert publisher.messages == []


def test_own_results_do_not_trigger_the_step_again(storage_env, buckets, publisher):
    images, _ = buckets
    app = create_app(_settings(results_bucket=IMAGES, output_topic=publisher.name))
    blob = _upload(images, "vision/some/result.json", b"{}", "application/json")
    assert _deliver(app, *_push(blob)).get_json()["status"] == "ignored"


def test_object_deleted_before_processing_is_a_not_found_result(app, buckets, publisher):
    images, results = buckets
    blob = _upload(images, "in/vanished.png", png_bytes(render(TextImage(("x",)))))
    headers, body = _push(blob)
    blob.delete()
    response = _deliver(app, headers, body)
    assert response.status_code == 200
    assert response.get_json()["status"] == "failed"
    stored = json.loads(
        results.blob(f"vision/{IMAGES}/in/vanished.png/{blob.generation}.json").download_as_bytes()
    )
    assert stored["error"]["code"] == 5  # NOT_FOUND: retrying cannot bring it back
    assert publisher.messages == []


def test_undecodable_event_is_400_so_it_is_retried_then_dead_lettered(app):
    response = _deliver(app, {"Content-Type": "application/json"}, b'{"hello": "world"}')
    assert response.status_code == 400
    assert response.get_json()["error"]["status"] == "INVALID_ARGUMENT"


def test_storage_down_is_503_so_pubsub_retries(buckets, publisher, monkeypatch):
    images, _ = buckets
    blob = _upload(images, "in/later.png", png_bytes(render(TextImage(("x",)))))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", dead)
    app = create_app(
        _settings(), publisher=publisher, storage=Storage("test-project", timeout_s=1.0)
    )
    response = _deliver(app, *_push(blob))
    assert response.status_code == 503
    assert response.get_json()["error"]["status"] == "UNAVAILABLE"
    assert publisher.messages == []


def test_missing_results_bucket_is_503_until_configured(storage_env, buckets, publisher):
    images, _ = buckets
    app = create_app(_settings(results_bucket=None, output_topic=publisher.name))
    blob = _upload(images, "in/unconfigured.png", png_bytes(render(TextImage(("x",)))))
    response = _deliver(app, *_push(blob))
    assert response.status_code == 503
    assert "RESULTS_BUCKET" in response.get_json()["error"]["message"]
