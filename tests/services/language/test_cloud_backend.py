"""The `cloud` backend, against recorded real-format Natural Language responses.

The service runs as a real process with `LANGUAGE_ML_BACKEND=cloud` and `CLOUD_API_ENDPOINT`
aimed at a recording server on 127.0.0.1 (the stand-in for a regional endpoint such as
`eu-language.googleapis.com`); the official client calls the service.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import language_v1

from tests.conftest import RecordingServer, ServiceProcess
from tests.services.language.conftest import official_client

RECORDED = Path(__file__).parent / "recorded"
TEXT = "The new bridge is wonderful. Everyone loves it."


@pytest.fixture(scope="module")
def endpoint():
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cloud_client(endpoint, tmp_path_factory):
    service = ServiceProcess(
        "language",
        "language",
        env={"LANGUAGE_ML_BACKEND": "cloud", "CLOUD_API_ENDPOINT": endpoint.url},
        log_path=tmp_path_factory.mktemp("language-cloud") / "service.log",
    )
    yield official_client(service.url)
    service.stop()


def play(server: RecordingServer, recording: str, status: int = 200) -> None:
    server.recording, server.status = (RECORDED / recording).read_bytes(), status


def test_requests_go_to_the_configured_endpoint_and_come_back_whole(cloud_client, endpoint):
    play(endpoint, "analyze_sentiment.json")
    response = cloud_client.analyze_sentiment(
        document={"content": TEXT, "type_": language_v1.Document.Type.PLAIN_TEXT},
        encoding_type=language_v1.EncodingType.UTF8,
    )
    _method, path, _headers, _body = endpoint.received[-1]
    assert path.startswith("/v1/documents:analyzeSentiment")
    assert endpoint.sent_json()["document"]["content"] == TEXT
    assert response.document_sentiment.score == pytest.approx(0.8)
    assert [s.text.begin_offset for s in response.sentences] == [0, 29]


def test_googles_errors_come_back_in_googles_shape(cloud_client, endpoint):
    play(endpoint, "unsupported_language.json", 400)
    with pytest.raises(exceptions.BadRequest) as info:
        cloud_client.analyze_sentiment(document={"content": "Mirëdita", "type_": 1})
    assert info.value.message.endswith(
        "The language sq is not supported for document_sentiment analysis."
    )
