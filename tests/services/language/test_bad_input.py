"""Bad input: each case a 4xx in Google's error JSON, and the service keeps answering."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from google.api_core import exceptions
from google.cloud import language_v1

from tests.services.language.conftest import document


def _post(url: str, body: dict | bytes) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(autouse=True)
def _service_still_answers(language_service, client):
    yield
    assert language_service.alive()
    assert client.analyze_sentiment(document=document("Still great!")).document_sentiment.score > 0


def test_empty_content_is_400(client):
    with pytest.raises(exceptions.BadRequest, match="empty"):
        client.analyze_sentiment(document=document(""))
    with pytest.raises(exceptions.BadRequest, match="empty"):
        client.analyze_entities(document=document("   \n "))


def test_content_over_one_million_bytes_is_400(client):
    text = "é" * 500_001  # 1,000,002 bytes in UTF-8, 500,001 characters
    with pytest.raises(exceptions.BadRequest, match="limit is 1000000 bytes"):
        client.analyze_sentiment(document=document(text))


def test_invalid_encoding_type_is_400(language_service):
    for value in ("UTF7", 9):
        status, answer = _post(
            f"{language_service.url}/v1/documents:analyzeEntities",
            {"document": {"content": "Hi Bob.", "type": "PLAIN_TEXT"}, "encodingType": value},
        )
        assert status == 400
        assert answer["error"]["status"] == "INVALID_ARGUMENT"
        assert (
            "ncoding" in answer["error"]["message"] or "EncodingType" in answer["error"]["message"]
        )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Angela Merkel spoke.", "fr"),
        ("Le chat dort sur le canapé pendant que nous mangeons.", ""),
        ("Der Hund schläft im Garten, während wir essen.", ""),
    ],
)
def test_unsupported_language_is_400_naming_what_is(client, text, language):
    with pytest.raises(exceptions.BadRequest) as raised:
        client.analyze_entities(document=document(text, language=language))
    assert "not supported" in raised.value.message
    assert "Supported: en" in raised.value.message


def test_malformed_and_unknown_requests(language_service):
    url = f"{language_service.url}/v1/documents:analyzeSentiment"
    assert _post(url, b"{not json")[0] == 400
    assert _post(url, {"document": {"content": "x"}, "colour": 1})[0] == 400
    assert _post(url, {})[0] == 400
    status, answer = _post(f"{language_service.url}/v1/documents:translate", {})
    assert status == 404
    assert answer["error"]["status"] == "NOT_FOUND"
    status, answer = _post(f"{language_service.url}/v2/documents:analyzeSyntax", {})
    assert status == 404  # v2 has no syntax


def test_gcs_documents_are_read_and_missing_ones_are_404(client, gcs):
    bucket = gcs.bucket("language-docs")
    if not bucket.exists():
        bucket = gcs.create_bucket("language-docs")
    bucket.blob("review.txt").upload_from_string("What a fantastic, lovely hotel.")
    response = client.analyze_sentiment(
        document=language_v1.Document(
            gcs_content_uri="gs://language-docs/review.txt",
            type_=language_v1.Document.Type.PLAIN_TEXT,
        )
    )
    assert response.document_sentiment.score > 0
    with pytest.raises(exceptions.NotFound):
        client.analyze_sentiment(
            document=language_v1.Document(
                gcs_content_uri="gs://language-docs/missing.txt",
                type_=language_v1.Document.Type.PLAIN_TEXT,
            )
        )
