"""The document -> text step, fed real-format events: Cloud Storage and Pub/Sub are the
local emulators, the engines and the app are real; what the step publishes is read back
from a subscription on its output topic."""

from __future__ import annotations

import json

import pytest
from google.cloud import documentai_v1 as documentai

from local import document_samples as samples
from services.documentai.app import create_app
from services.documentai.settings import DocumentAISettings
from shared.pubsub import PubSubPublisher
from tests.conftest import push_envelope

DOCUMENTS, RESULTS = "wf-documents", "wf-docai-results"


@pytest.fixture(scope="module")
def buckets(storage_emulator):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        client = storage.Client(project="test-project", credentials=AnonymousCredentials())
        yield (
            client.lookup_bucket(DOCUMENTS) or client.create_bucket(DOCUMENTS),
            client.lookup_bucket(RESULTS) or client.create_bucket(RESULTS),
        )


def _settings(**overrides) -> DocumentAISettings:
    values = {
        "results_bucket": RESULTS,
        "output_topic": "text-ready",
        "google_cloud_project": "test-project",
        "log_format": "json",
        "shard_pages": 10,
    }
    return DocumentAISettings.from_env("documentai", environ={}, **{**values, **overrides})


@pytest.fixture
def app(storage_env, buckets, output_topic):
    return create_app(_settings(output_topic=output_topic.name), publisher=PubSubPublisher())


def _upload(bucket, name: str, data: bytes, content_type: str = "application/pdf"):
    blob = bucket.blob(name)
    blob.upload_from_string(data, content_type=content_type)
    blob.reload()
    return blob


def _push(blob, event_type="OBJECT_FINALIZE", message_id="2001"):
    resource = {
        "kind": "storage#object",
        "bucket": blob.bucket.name,
        "name": blob.name,
        "generation": str(blob.generation),
        "contentType": blob.content_type,
        "size": str(blob.size),
    }
    attributes = {
        "eventType": event_type,
        "payloadFormat": "JSON_API_V1",
        "bucketId": blob.bucket.name,
        "objectId": blob.name,
        "objectGeneration": str(blob.generation),
    }
    body = push_envelope(json.dumps(resource).encode(), attributes, message_id)
    return {"Content-Type": "application/json"}, json.dumps(body).encode()


def _deliver(app, blob, **kwargs):
    headers, body = _push(blob, **kwargs)
    return app.test_client().post("/events", data=body, headers=headers)


def test_an_invoice_becomes_a_document_result_and_a_text_message(app, buckets, output_topic):
    documents, results = buckets
    form = samples.invoice(71)
    blob = _upload(documents, "in/invoice-71.pdf", form.pdf)
    response = _deliver(app, blob)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "processed"
    name = f"documentai/{DOCUMENTS}/{blob.name}/{blob.generation}/invoice-71-0.json"
    doc = documentai.Document.from_json(
        results.blob(name).download_as_bytes(), ignore_unknown_fields=False
    )
    assert len(doc.pages[0].form_fields) >= len(form.fields)
    assert len(doc.pages[0].tables) == 1
    [(_topic, data, attributes)] = output_topic.messages
    assert data.decode() == doc.text
    assert attributes["producer"] == "documentai"
    assert attributes["resultUri"] == f"gs://{RESULTS}/{name}"
    assert attributes["sourceUri"] == f"gs://{DOCUMENTS}/{blob.name}"
    assert attributes["languageCode"] == "en"


def test_a_long_document_is_sharded_and_past_the_online_limit(app, buckets, output_topic):
    documents, results = buckets
    pdf, texts = samples.pages_pdf(25)
    blob = _upload(documents, "in/long.pdf", pdf)
    assert _deliver(app, blob).get_json()["status"] == "processed"
    prefix = f"documentai/{DOCUMENTS}/{blob.name}/{blob.generation}/"
    shards = sorted(b.name for b in results.list_blobs(prefix=prefix))
    assert shards == [f"{prefix}long-{k}.json" for k in range(3)]
    docs = [documentai.Document.from_json(results.blob(n).download_as_bytes()) for n in shards]
    assert [len(d.pages) for d in docs] == [10, 10, 5]
    assert [d.shard_info.shard_index for d in docs] == [0, 1, 2]
    whole = "".join(d.text for d in docs)
    assert whole.splitlines() == texts
    for d in docs:
        token = d.pages[0].tokens[0].layout.text_anchor.text_segments[0]
        assert d.text[int(token.start_index) : int(token.end_index)].startswith("Page")
        assert whole[int(d.shard_info.text_offset) :].startswith(d.text)
    [(_topic, data, _attributes)] = output_topic.messages
    assert data.decode() == whole


def test_redelivery_rewrites_the_same_result(app, buckets, output_topic):
    documents, _ = buckets
    pdf, _ = samples.pages_pdf(1)
    blob = _upload(documents, "in/twice.pdf", pdf)
    first = _deliver(app, blob).get_json()
    second = _deliver(app, blob).get_json()
    assert first["resultUri"] == second["resultUri"]
    keys = {attributes["dedupKey"] for _, _, attributes in output_topic.messages}
    assert len(keys) == 1


def test_unreadable_documents_are_acknowledged_with_an_error_result(app, buckets, output_topic):
    documents, results = buckets
    blob = _upload(documents, "in/fake.pdf", b"not a pdf")
    response = _deliver(app, blob)
    assert response.status_code == 200
    assert response.get_json()["status"] == "failed"
    name = f"documentai/{DOCUMENTS}/{blob.name}/{blob.generation}/fake-0.json"
    stored = json.loads(results.blob(name).download_as_bytes())
    assert stored["error"]["status"] == "INVALID_ARGUMENT"
    assert output_topic.messages == []


def test_deletes_and_own_results_are_ignored(app, buckets, output_topic):
    documents, _ = buckets
    pdf, _ = samples.pages_pdf(1)
    blob = _upload(documents, "in/gone.pdf", pdf)
    assert _deliver(app, blob, event_type="OBJECT_DELETE").get_json()["status"] == "ignored"
    assert output_topic.messages == []
