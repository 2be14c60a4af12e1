"""The functions-framework targets of main.py, each run as its own process."""

from __future__ import annotations

import json
import urllib.request

import pytest

from local.samples import TextImage, png_bytes, render
from tests.conftest import ServiceProcess


def _cloudevent_for(blob) -> tuple[dict, bytes]:
    headers = {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": "e-1",
        "ce-source": "//storage.googleapis.com/projects/_/buckets/main-images",
        "ce-type": "google.cloud.storage.object.v1.finalized",
    }
    body = {"bucket": blob.bucket.name, "name": blob.name, "generation": str(blob.generation)}
    return headers, json.dumps(body).encode()


def _post(url: str, headers: dict, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, body, headers)
    with urllib.request.urlopen(request) as response:
        return response.status, json.load(response)


@pytest.fixture(scope="module")
def image_blob(storage_emulator):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        client = storage.Client(project="test-project", credentials=AnonymousCredentials())
        client.create_bucket("main-results")
        blob = client.create_bucket("main-images").blob("in/hello.png")
        blob.upload_from_string(
            png_bytes(render(TextImage(("Hello events",), size=30))), content_type="image/png"
        )
        blob.reload()
        return blob


@pytest.mark.parametrize(
    ("target", "path"), [("vision", "/events"), ("vision_events", "/any/path/at/all")]
)
def test_event_targets_process_a_storage_event(
    tmp_path, storage_emulator, image_blob, target, path
):
    service = ServiceProcess(
        "vision",
        target,
        env={"STORAGE_EMULATOR_HOST": storage_emulator, "RESULTS_BUCKET": "main-results"},
        log_path=tmp_path / "service.log",
    )
    try:
        status, answer = _post(service.url + path, *_cloudevent_for(image_blob))
    finally:
        service.stop()
    assert status == 200
    assert answer["status"] == "processed"
    assert answer["resultUri"] == (
        f"gs://main-results/vision/main-images/in/hello.png/{image_blob.generation}.json"
    )
    assert answer["reason"] == "OUTPUT_TOPIC not set: nothing published"
    # Structured logs: one JSON object per line, and never the document's text.
    lines = [json.loads(line) for line in service.logs().splitlines() if line.startswith("{")]
    assert any(line.get("eventId") == "e-1" for line in lines)
    assert "Hello events" not in service.logs()
