"""The audio -> text step, fed real-format storage notifications; Cloud Storage and Pub/Sub
are the local emulators, Whisper and the app are real. What the step publishes is read back
from a subscription on its output topic."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile
from google.cloud import speech_v1 as speech

from services.speech.app import create_app
from services.speech.settings import SpeechSettings
from shared.pubsub import PubSubPublisher
from tests.conftest import push_envelope
from tests.services.speech.conftest import AUDIO, RESULTS, word_error_rate


def _settings(**overrides) -> SpeechSettings:
    values = {
        "results_bucket": RESULTS,
        "output_topic": "text-ready",
        "google_cloud_project": "test-project",
        "log_format": "json",
    }
    return SpeechSettings.from_env("speech", environ={}, **{**values, **overrides})


@pytest.fixture
def app(storage_env, speech_buckets, output_topic):
    return create_app(_settings(output_topic=output_topic.name), publisher=PubSubPublisher())


def _upload(bucket, name: str, data: bytes, content_type: str = "audio/wav"):
    blob = bucket.blob(name)
    blob.upload_from_string(data, content_type=content_type)
    blob.reload()
    return blob


def _push(blob, event_type: str = "OBJECT_FINALIZE", message_id: str = "2001"):
    resource = {
        "kind": "storage#object",
        "bucket": blob.bucket.name,
        "name": blob.name,
        "generation": str(blob.generation),
        "metageneration": "1",
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
    return _post_args(body)


def _post_args(body: dict) -> dict:
    return {"data": json.dumps(body).encode(), "headers": {"Content-Type": "application/json"}}


def test_audio_becomes_a_result_and_a_text_message(app, speech_buckets, output_topic, testdata):
    audio, results = speech_buckets
    clip = testdata.librivox[0]
    blob = _upload(audio, "in/dashwood.wav", clip.data)
    response = app.test_client().post("/events", **_push(blob))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "processed"

    name = f"speech/{AUDIO}/{blob.name}/{blob.generation}.json"
    stored = speech.LongRunningRecognizeResponse.from_json(
        results.blob(name).download_as_bytes(), ignore_unknown_fields=False
    )
    text = "".join(r.alternatives[0].transcript for r in stored.results)
    assert word_error_rate([clip.transcript], [text]) <= 0.10
    assert stored.results[0].alternatives[0].words  # word offsets on

    [(topic, data, attributes)] = output_topic.messages
    assert topic == output_topic.path
    assert data.decode() == text.strip()
    assert attributes["producer"] == "speech"
    assert attributes["sourceUri"] == f"gs://{AUDIO}/{blob.name}"
    assert attributes["resultUri"] == f"gs://{RESULTS}/{name}"
    assert attributes["languageCode"] == "en-us"


def test_stereo_audio_is_recognised_per_channel(app, speech_buckets, output_topic, testdata):
    audio, results = speech_buckets
    left, _ = soundfile.read(testdata.librivox[1].path, dtype="int16")
    buffer = io.BytesIO()
    soundfile.write(buffer, np.stack([left, left // 2], axis=1), 16000, format="WAV")
    blob = _upload(audio, "in/stereo.wav", buffer.getvalue())
    assert app.test_client().post("/events", **_push(blob)).get_json()["status"] == "processed"
    name = f"speech/{AUDIO}/{blob.name}/{blob.generation}.json"
    stored = json.loads(results.blob(name).download_as_bytes())
    assert {r["channelTag"] for r in stored["results"]} == {1, 2}
    [(_, data, _)] = output_topic.messages  # the first channel's text, once
    assert word_error_rate([testdata.librivox[1].transcript], [data.decode()]) <= 0.15


def test_not_audio_is_acknowledged_with_an_error_result(app, speech_buckets, output_topic):
    audio, results = speech_buckets
    blob = _upload(audio, "in/notes.txt", b"plain text, not audio", "text/plain")
    response = app.test_client().post("/events", **_push(blob))
    assert response.status_code == 200
    assert response.get_json()["status"] == "failed"
    stored = json.loads(
        results.blob(f"speech/{AUDIO}/in/notes.txt/{blob.generation}.json").download_as_bytes()
    )
    assert stored["error"]["status"] == "INVALID_ARGUMENT"
    assert output_topic.messages == []


def test_silence_is_processed_without_a_message(app, speech_buckets, output_topic):
    audio, _ = speech_buckets
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(16000 * 2, dtype=np.int16), 16000, format="WAV")
    blob = _upload(audio, "in/silence.wav", buffer.getvalue())
    outcome = app.test_client().post("/events", **_push(blob)).get_json()
    assert outcome["status"] == "processed"
    assert outcome["reason"] == "no speech found"
    assert output_topic.messages == []


def test_deletes_and_own_results_are_ignored(app, speech_buckets, output_topic):
    audio, results = speech_buckets
    blob = _upload(audio, "in/gone.wav", b"RIFF")
    deleted = app.test_client().post("/events", **_push(blob, event_type="OBJECT_DELETE"))
    assert deleted.get_json()["status"] == "ignored"
    own = _upload(results, "speech/x/y/1.json", b"{}", "application/json")
    assert app.test_client().post("/events", **_push(own)).get_json()["status"] == "ignored"
    assert output_topic.messages == []
