"""The `cloud` backend, against recorded real-format Translation v3 responses.

The service runs as a real process with `TRANSLATION_ML_BACKEND=cloud` and
`CLOUD_API_ENDPOINT` aimed at a recording server on 127.0.0.1 (the stand-in for a regional
endpoint such as `translate-eu.googleapis.com`); the official client calls the service.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.api_core import exceptions

from tests.conftest import RecordingServer, ServiceProcess
from tests.services.translation.conftest import PARENT, official_client

RECORDED = Path(__file__).parent / "recorded"


@pytest.fixture(scope="module")
def endpoint():
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cloud_client(endpoint, tmp_path_factory):
    service = ServiceProcess(
        "translation",
        "translation",
        env={"TRANSLATION_ML_BACKEND": "cloud", "CLOUD_API_ENDPOINT": endpoint.url},
        log_path=tmp_path_factory.mktemp("translation-cloud") / "service.log",
    )
    yield official_client(service.url)
    service.stop()


def play(server: RecordingServer, recording: str, status: int = 200) -> None:
    server.recording, server.status = (RECORDED / recording).read_bytes(), status


def test_requests_go_to_the_configured_endpoint_and_come_back_whole(cloud_client, endpoint):
    play(endpoint, "translate_text.json")
    response = cloud_client.translate_text(
        parent=PARENT, contents=["The new bridge is wonderful."], target_language_code="es"
    )
    _method, path, _headers, _body = endpoint.received[-1]
    assert path.startswith(f"/v3/{PARENT}:translateText")
    assert endpoint.sent_json()["targetLanguageCode"] == "es"
    [translation] = response.translations
    assert translation.translated_text == "El nuevo puente es maravilloso."
    assert translation.detected_language_code == "en"


def test_googles_errors_come_back_in_googles_shape(cloud_client, endpoint):
    play(endpoint, "bad_target.json", 400)
    with pytest.raises(exceptions.BadRequest) as info:
        cloud_client.translate_text(parent=PARENT, contents=["x"], target_language_code="zz")
    assert info.value.message.endswith("Target language is invalid.")
    assert info.value.details  # BadRequest field violations pass through
