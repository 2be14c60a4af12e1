"""The `cloud` backend, against recorded real-format Speech-to-Text responses.

Google cannot be reached here, so a recording server on 127.0.0.1 replays what
speech.googleapis.com answers (tests/services/speech/recorded/); the service runs as a real
process with `SPEECH_ML_BACKEND=cloud` and `CLOUD_API_ENDPOINT` aimed at the replay, and the
official clients call the service: our REST layer, the cloud backend's use of `SpeechClient`
(v1 and v2, Google's operation waited for behind ours), Google's errors passed on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import speech_v1 as speech
from google.cloud import speech_v2

from local.clients import api_client
from tests.conftest import RecordingServer, ServiceProcess
from tests.services.speech.conftest import RESULTS, official_client

RECORDED = Path(__file__).parent / "recorded"
ROUTES = {
    "/v1/speech:recognize": "recognize.json",
    "/v1/speech:longrunningrecognize": "longrunningrecognize.json",
    "/v1/operations/8443841777443483934": "operation_done.json",
    "/v2/projects/p/locations/global/recognizers/_:recognize": "recognize_v2.json",
    "/v2/projects/p/locations/global/recognizers/_:batchRecognize": "batch_recognize.json",
    "/v2/projects/p/locations/global/operations/3841204477198312345": "batch_operation_done.json",
}


class Replay:
    def __init__(self) -> None:
        self.denied = False
        self.server = RecordingServer(self.reply)

    def reply(self, _method: str, path: str):
        if self.denied:
            return 403, (RECORDED / "permission_denied.json").read_bytes(), {}
        return 200, (RECORDED / ROUTES[path.split("?")[0]]).read_bytes(), {}


@pytest.fixture(scope="module")
def replay():
    replay = Replay()
    yield replay
    replay.server.close()


@pytest.fixture(scope="module")
def cloud_service(replay, tmp_path_factory, storage_emulator, speech_buckets):
    service = ServiceProcess(
        "speech",
        "speech",
        env={
            "SPEECH_ML_BACKEND": "cloud",
            "CLOUD_API_ENDPOINT": replay.server.url,
            "STORAGE_EMULATOR_HOST": storage_emulator,
            "RESULTS_BUCKET": RESULTS,
        },
        log_path=tmp_path_factory.mktemp("speech-cloud") / "service.log",
    )
    yield service
    service.stop()


@pytest.fixture
def cloud_client(cloud_service, replay):
    replay.denied = False
    replay.server.received.clear()
    return official_client(cloud_service.url)


def _config() -> speech.RecognitionConfig:
    return speech.RecognitionConfig(
        language_code="en-US",
        encoding=speech.RecognitionConfig.AudioEncoding.FLAC,
        enable_word_time_offsets=True,
    )


def test_recognize_passes_through(cloud_client, replay):
    response = cloud_client.recognize(
        config=_config(), audio=speech.RecognitionAudio(uri="gs://bucket/brooklyn.flac")
    )
    [(_method, path, _headers, body)] = replay.server.received
    sent = json.loads(body)
    assert path.startswith("/v1/speech:recognize")
    assert sent["config"]["languageCode"] == "en-US"
    assert sent["config"]["enableWordTimeOffsets"] is True
    assert sent["audio"] == {"uri": "gs://bucket/brooklyn.flac"}
    [result] = response.results
    assert result.alternatives[0].transcript == "how old is the Brooklyn Bridge"
    assert result.result_end_time.total_seconds() == pytest.approx(1.77)
    assert response.request_id == 7241947187192076532


def test_long_running_mirrors_googles_operation(cloud_client, replay):
    operation = cloud_client.long_running_recognize(
        config=_config(), audio=speech.RecognitionAudio(uri="gs://bucket/brooklyn.flac")
    )
    response = operation.result(timeout=60)
    assert response.results[0].alternatives[0].transcript == "how old is the Brooklyn Bridge"
    assert operation.metadata.progress_percent == 100
    paths = [p.split("?")[0] for _m, p, _h, _b in replay.server.received]
    assert paths[0] == "/v1/speech:longrunningrecognize"
    assert "/v1/operations/8443841777443483934" in paths


def test_v2_recognize_passes_through(cloud_service, replay):
    replay.denied = False
    client = api_client(speech_v2.SpeechClient, cloud_service.url)
    response = client.recognize(
        request=speech_v2.RecognizeRequest(
            recognizer="projects/p/locations/global/recognizers/_",
            config=speech_v2.RecognitionConfig(auto_decoding_config={}, language_codes=["en-US"]),
            uri="gs://bucket/brooklyn.flac",
        )
    )
    assert response.results[0].alternatives[0].transcript == "how old is the Brooklyn Bridge"
    assert response.metadata.total_billed_duration.total_seconds() == 2


def test_v2_batch_recognize_mirrors_googles_operation(cloud_service, replay, speech_buckets):
    replay.denied = False
    replay.server.received.clear()
    client = api_client(speech_v2.SpeechClient, cloud_service.url)
    operation = client.batch_recognize(
        request=speech_v2.BatchRecognizeRequest(
            recognizer="projects/p/locations/global/recognizers/_",
            config=speech_v2.RecognitionConfig(auto_decoding_config={}, language_codes=["en-US"]),
            files=[speech_v2.BatchRecognizeFileMetadata(uri="gs://bucket/brooklyn.flac")],
            recognition_output_config=speech_v2.RecognitionOutputConfig(
                inline_response_config=speech_v2.InlineOutputConfig()
            ),
        )
    )
    # Our operation, named in our project space, mirrors Google's.
    assert operation.operation.name.startswith("projects/p/locations/global/operations/")
    response = operation.result(timeout=60)
    transcript = response.results["gs://bucket/brooklyn.flac"].inline_result.transcript
    assert transcript.results[0].alternatives[0].transcript == "how old is the Brooklyn Bridge"
    paths = [p.split("?")[0] for _m, p, _h, _b in replay.server.received]
    assert paths[0] == "/v2/projects/p/locations/global/recognizers/_:batchRecognize"


def test_googles_errors_come_back_as_they_were(cloud_client, replay):
    replay.denied = True
    with pytest.raises(exceptions.Forbidden) as caught:
        cloud_client.recognize(
            config=_config(), audio=speech.RecognitionAudio(uri="gs://bucket/brooklyn.flac")
        )
    assert "Cloud Speech-to-Text API has not been used" in caught.value.message


def test_cloud_backend_loads_no_offline_engine():
    """A `cloud` image carries no engines: the service must not even import them."""
    import subprocess
    import sys

    code = (
        "import os, sys; os.environ['ML_BACKEND'] = 'cloud';"
        "from services.speech.app import create_app; create_app();"
        "heavy = [m for m in ('faster_whisper', 'ctranslate2', 'soundfile', 'av', 'numpy')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
