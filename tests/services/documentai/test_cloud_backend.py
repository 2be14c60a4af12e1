"""The `cloud` backend, against recorded real-format Document AI responses.

A recording server on 127.0.0.1 replays what documentai.googleapis.com answers
(`recorded/`); the service runs as a real process with `DOCUMENTAI_ML_BACKEND=cloud` and
`CLOUD_API_ENDPOINT` aimed at the replay, and the official client calls the service."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import documentai_v1 as documentai

from tests.conftest import RecordingServer, ServiceProcess
from tests.services.documentai.conftest import official_client

RECORDED = Path(__file__).parent / "recorded"
NAME = "projects/test-project/locations/eu/processors/abc123"


@pytest.fixture(scope="module")
def replay():
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cloud_service(replay, tmp_path_factory):
    service = ServiceProcess(
        "documentai",
        "documentai",
        env={
            "DOCUMENTAI_ML_BACKEND": "cloud",
            "CLOUD_API_ENDPOINT": replay.url,
            "DOCUMENTAI_PROCESSORS": "abc123=INVOICE_PROCESSOR:Invoices",
        },
        log_path=tmp_path_factory.mktemp("documentai-cloud") / "service.log",
    )
    yield service
    service.stop()


def _play(replay, recording: str, status: int = 200) -> None:
    replay.recording, replay.status = (RECORDED / recording).read_bytes(), status
    replay.received.clear()


def test_the_request_passes_through_and_the_document_comes_back_whole(cloud_service, replay):
    _play(replay, "process_document.json")
    client = official_client(cloud_service.url)
    response = client.process_document(
        request=documentai.ProcessRequest(
            name=NAME,
            raw_document=documentai.RawDocument(
                content=b"%PDF-1.7 ...", mime_type="application/pdf"
            ),
            process_options=documentai.ProcessOptions(from_start=2),
        )
    )
    method, path, _headers, _body = replay.received[-1]
    assert method == "POST"
    assert path.startswith(f"/v1/{NAME}:process")
    sent = replay.sent_json()
    assert sent["processOptions"] == {"fromStart": 2}
    assert sent["rawDocument"]["mimeType"] == "application/pdf"
    doc = response.document
    assert doc.text == "Invoice number: 12345\nTotal: 99.00\n"
    field = doc.pages[0].form_fields[0]
    assert field.field_value.text_anchor.content == "12345"
    assert response.human_review_status.state == documentai.HumanReviewStatus.State.SKIPPED


def test_cloud_processors_may_be_any_type_google_offers(cloud_service):
    client = official_client(cloud_service.url)
    (processor,) = client.list_processors(parent="projects/test-project/locations/eu")
    assert processor.type_ == "INVOICE_PROCESSOR"


def test_googles_errors_keep_their_status_and_message(cloud_service, replay):
    _play(replay, "permission_denied.json", status=403)
    client = official_client(cloud_service.url)
    with pytest.raises(exceptions.Forbidden) as caught:
        client.process_document(
            request=documentai.ProcessRequest(
                name=NAME,
                raw_document=documentai.RawDocument(content=b"%PDF", mime_type="application/pdf"),
            )
        )
    assert "documentai.processors.processOnline" in caught.value.message
    assert caught.value.response.json()["error"]["status"] == "PERMISSION_DENIED"
    assert replay.url not in caught.value.message  # the upstream URL stays ours


def test_a_cloud_process_imports_no_local_engine(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from services.documentai.app import create_app\n"
        "from services.documentai.settings import DocumentAISettings\n"
        "create_app(DocumentAISettings.from_env('documentai', environ={'ML_BACKEND': 'cloud'}))\n"
        "heavy = [m for m in ('pdfplumber', 'pypdfium2', 'tesserocr', 'cv2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_batches_and_their_operations_are_googles(cloud_service, replay):
    running = (RECORDED / "batch_running.json").read_bytes()
    done = (RECORDED / "batch_done.json").read_bytes()
    replay.reply = lambda method, _path: (200, running if method == "POST" else done, {})
    replay.received.clear()
    try:
        client = official_client(cloud_service.url)
        operation = client.batch_process_documents(
            request=documentai.BatchProcessRequest(
                name=NAME,
                input_documents={"gcs_prefix": {"gcs_uri_prefix": "gs://my-bucket/invoices/"}},
                document_output_config={"gcs_output_config": {"gcs_uri": "gs://my-bucket/out"}},
            )
        )
        operation.result(timeout=30)
        (status,) = operation.metadata.individual_process_statuses
        assert status.output_gcs_destination == "gs://my-bucket/out/4803954374811390118/0"
        paths = [path.split("?")[0] for _, path, _, _ in replay.received]
        assert paths[0] == f"/v1/{NAME}:batchProcess"
        assert "/v1/projects/123456789012/locations/eu/operations/4803954374811390118" in paths
    finally:
        replay.reply = lambda _method, _path: (replay.status, replay.recording, {})
