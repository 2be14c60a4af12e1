"""Bad input, each answered in Google's error shape (400 INVALID_ARGUMENT, 404 NOT_FOUND) with
the service still up afterwards."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest
from google.api_core import exceptions
from google.cloud import documentai_v1 as documentai

from local import document_samples as samples
from tests.services.documentai.conftest import processor_name

PDF = "application/pdf"


def _raw(client, content: bytes, mime_type: str = PDF, processor: str = "form", **extra):
    return client.process_document(
        request=documentai.ProcessRequest(
            name=processor_name(processor),
            raw_document=documentai.RawDocument(content=content, mime_type=mime_type),
            **extra,
        )
    )


def _truncated() -> bytes:
    pdf, _ = samples.pages_pdf(3)
    return pdf[: len(pdf) * 2 // 3]


@pytest.mark.parametrize(
    ("content", "mime_type", "message"),
    [
        (b"just some text, not a PDF at all", PDF, "not a PDF"),
        (samples.encrypted_pdf(), PDF, "encrypted"),
        (_truncated(), PDF, "truncated"),
        (samples.huge_page_pdf(), PDF, "largest page side"),
        (b"GIF89a not really", "image/png", "not a readable image"),
        (b"%PDF-1.4 whatever", "application/msword", "mime type"),
        (b"%PDF-1.4 whatever", "text/plain", "mime type"),
    ],
    ids=["not-a-pdf", "encrypted", "truncated", "huge-page", "bad-image", "word", "text"],
)
def test_unreadable_documents_are_invalid_argument(
    client, docai_service, content, mime_type, message
):
    with pytest.raises(exceptions.BadRequest) as caught:
        _raw(client, content, mime_type)
    assert "Unsupported input file format." in caught.value.message
    assert message in caught.value.message
    assert caught.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert docai_service.alive()


def test_more_pages_than_the_online_limit_gives_googles_message(client, docai_service):
    pdf, _ = samples.pages_pdf(16)
    with pytest.raises(exceptions.BadRequest) as caught:
        _raw(client, pdf, processor="ocr")
    assert caught.value.message.endswith(
        "Document pages in non-imageless mode exceed the limit: 15 got 16. Try using "
        "imageless mode to increase the limit to 30."
    )
    pdf, _ = samples.pages_pdf(31)
    with pytest.raises(exceptions.BadRequest, match="imageless mode exceed the limit: 30 got 31"):
        _raw(client, pdf, processor="ocr", imageless_mode=True)
    assert docai_service.alive()


def test_an_unknown_processor_is_not_found(client, docai_service):
    pdf, _ = samples.pages_pdf(1)
    with pytest.raises(exceptions.NotFound) as caught:
        _raw(client, pdf, processor="no-such-processor")
    assert "no-such-processor" in caught.value.message
    with pytest.raises(exceptions.NotFound):
        client.process_document(
            request=documentai.ProcessRequest(
                name=processor_name() + "/processorVersions/v99",
                raw_document=documentai.RawDocument(content=pdf, mime_type=PDF),
            )
        )
    assert docai_service.alive()


def test_page_selection_outside_the_document(client):
    pdf, _ = samples.pages_pdf(3)
    with pytest.raises(exceptions.BadRequest, match="Invalid page number 7"):
        _raw(
            client,
            pdf,
            processor="ocr",
            process_options=documentai.ProcessOptions(individual_page_selector={"pages": [1, 7]}),
        )


def test_no_document_and_a_missing_gcs_object(client):
    with pytest.raises(exceptions.BadRequest, match="A document is required"):
        client.process_document(request=documentai.ProcessRequest(name=processor_name()))
    with pytest.raises(exceptions.NotFound):
        client.process_document(
            request=documentai.ProcessRequest(
                name=processor_name(),
                gcs_document=documentai.GcsDocument(
                    gcs_uri="gs://docai-results/none.pdf", mime_type=PDF
                ),
            )
        )


def _post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_bad_json_and_unknown_fields_in_googles_words(docai_service):
    url = f"{docai_service.url}/v1/{processor_name()}:process"
    status, body = _post(url, b"{not json")
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert body["error"]["message"].startswith("Invalid JSON payload received.")
    status, body = _post(
        url, json.dumps({"rawDocument": {"content": "!!!", "mimeType": PDF}}).encode()
    )
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    content = base64.b64encode(b"%PDF").decode()
    status, body = _post(url, json.dumps({"rawDoc": {"content": content}}).encode())
    assert status == 400
    assert "rawDoc" in body["error"]["message"]
    assert docai_service.alive()


def test_a_document_over_40_mb_is_refused_and_one_under_it_is_not(client, docai_service):
    pdf, _ = samples.pages_pdf(1)
    # A valid PDF padded with a comment after its end: 41 MB, within the body limit.
    padded = pdf + b"\n%" + b"x" * (41 * 1024 * 1024 - len(pdf)) + b"\n%%EOF\n"
    with pytest.raises(exceptions.BadRequest, match="exceeds the limit of 41943040 bytes"):
        _raw(client, padded, processor="ocr")
    assert docai_service.alive()
