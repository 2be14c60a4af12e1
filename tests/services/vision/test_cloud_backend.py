"""The `cloud` backend, against recorded real-format Cloud Vision responses.

Google cannot be reached here, so a recording server on 127.0.0.1 replays what
vision.googleapis.com answers (tests/services/vision/recorded/); the service runs as a real
process with `VISION_ML_BACKEND=cloud` and `CLOUD_API_ENDPOINT` aimed at the replay, and the
official client calls the service. This checks the whole path: our REST layer, the cloud
backend's use of `ImageAnnotatorClient`, and the translation of Google's errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import vision

from tests.conftest import RecordingServer, ServiceProcess
from tests.services.vision.conftest import official_client

RECORDED = Path(__file__).parent / "recorded"


@pytest.fixture(scope="module")
def replay():
    server = RecordingServer()
    yield server
    server.close()


def play(server: RecordingServer, recording: str, status: int = 200) -> None:
    server.recording, server.status = (RECORDED / recording).read_bytes(), status


@pytest.fixture(scope="module")
def cloud_service(replay, tmp_path_factory):
    service = ServiceProcess(
        "vision",
        "vision",
        env={"VISION_ML_BACKEND": "cloud", "CLOUD_API_ENDPOINT": replay.url},
        log_path=tmp_path_factory.mktemp("vision-cloud") / "service.log",
    )
    yield service
    service.stop()


@pytest.fixture
def cloud_client(cloud_service, replay):
    play(replay, "batch_annotate_images.json")
    replay.received.clear()
    return official_client(cloud_service.url)


def test_requests_pass_through_and_responses_come_back_whole(cloud_client, replay):
    response = cloud_client.batch_annotate_images(
        requests=[
            {
                "image": {"source": {"gcs_image_uri": "gs://bucket/a.png"}},
                "features": [{"type_": vision.Feature.Type.TEXT_DETECTION}],
                "image_context": {"language_hints": ["en"]},
            },
            {
                "image": {"content": b"junk"},
                "features": [{"type_": vision.Feature.Type.TEXT_DETECTION}],
            },
            {
                "image": {"content": b"face"},
                "features": [{"type_": vision.Feature.Type.FACE_DETECTION}],
            },
        ]
    )
    [(_method, path, _headers, body)] = replay.received
    sent = json.loads(body)
    assert path.startswith("/v1/images:annotate")
    assert sent["requests"][0]["image"]["source"]["gcsImageUri"] == "gs://bucket/a.png"
    assert sent["requests"][0]["imageContext"]["languageHints"] == ["en"]

    text, bad, faces = response.responses
    assert text.full_text_annotation.text == "Hello world\n"
    assert text.text_annotations[0].locale == "en"
    breaks = [
        s.property.detected_break.type_
        for w in text.full_text_annotation.pages[0].blocks[0].paragraphs[0].words
        for s in w.symbols
        if s.property.detected_break.type_
    ]
    assert breaks == [
        vision.TextAnnotation.DetectedBreak.BreakType.SPACE,
        vision.TextAnnotation.DetectedBreak.BreakType.LINE_BREAK,
    ]
    assert (bad.error.code, bad.error.message) == (3, "Bad image data.")
    face = faces.face_annotations[0]
    assert face.joy_likelihood == vision.Likelihood.VERY_LIKELY
    assert face.landmarks[0].type_ == vision.FaceAnnotation.Landmark.Type.LEFT_EYE
    assert faces.label_annotations[1].description == "Smile"
    assert faces.safe_search_annotation.racy == vision.Likelihood.UNLIKELY


def test_googles_errors_come_back_in_googles_shape(cloud_client, replay):
    play(replay, "permission_denied.json", 403)
    with pytest.raises(exceptions.Forbidden) as info:
        cloud_client.text_detection({"content": b"x"})
    error = info.value
    assert error.message.endswith(
        "has not been used in project 123456789012 before or it is "
        "disabled. Enable it by visiting https://console.developers."
        "google.com/apis/api/vision.googleapis.com/overview?project="
        "123456789012 then retry."
    )
    assert "127.0.0.1" not in error.message.split(": ", 1)[1]  # the upstream URL stays ours
    assert error.reason == "SERVICE_DISABLED"  # ErrorInfo details pass through


def test_cloud_backend_loads_no_offline_engine(cloud_service):
    """A `cloud` image carries no engines: the service must not even import them."""
    import subprocess
    import sys

    code = (
        "import os, sys; os.environ['ML_BACKEND'] = 'cloud';"
        "from services.vision.app import create_app; create_app();"
        "heavy = [m for m in ('tesserocr', 'cv2', 'pypdfium2', 'numpy') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
