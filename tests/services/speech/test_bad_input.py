"""Bad input, each answered in Google's error JSON with the service still up; noise-only
audio is empty results, not an error, as Google answers."""

from __future__ import annotations

import base64
import io
import json
import re
import urllib.error
import urllib.request

import numpy as np
import pytest
import soundfile
from google.api_core import exceptions
from google.cloud import speech_v1 as speech
from google.cloud import speech_v2

from services.speech import limits


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _config(**fields) -> speech.RecognitionConfig:
    return speech.RecognitionConfig(language_code="en-US", **fields)


@pytest.fixture(autouse=True)
def _still_up(speech_service):
    yield
    assert speech_service.alive()
    with urllib.request.urlopen(f"{speech_service.url}/health", timeout=5) as response:
        assert response.status == 200


def _message(error: exceptions.GoogleAPICallError) -> str:
    """Google's message, without the "POST http://...: " api-core puts before it."""
    return re.sub(r"^[A-Z]+ https?://\S+: ", "", error.message)


def _bad(client, config, audio) -> exceptions.GoogleAPICallError:
    with pytest.raises(exceptions.GoogleAPICallError) as caught:
        client.recognize(config=config, audio=audio)
    return caught.value


def test_empty_audio(client):
    error = _bad(client, _config(), speech.RecognitionAudio(content=b""))
    assert error.code == 400
    assert _message(error) == limits.NO_AUDIO


def test_noise_only_audio_is_empty_results(client):
    noise = (np.random.default_rng(7).normal(0, 0.05, 16000 * 4) * 32767).astype(np.int16)
    for samples in (noise, np.zeros(16000 * 3, dtype=np.int16)):
        response = client.recognize(
            config=_config(), audio=speech.RecognitionAudio(content=_wav(samples))
        )
        assert list(response.results) == []
        assert response.total_billed_time.total_seconds() >= 3


def test_sample_rate_contradicting_the_header(client, testdata):
    error = _bad(
        client,
        _config(sample_rate_hertz=44100),
        speech.RecognitionAudio(content=testdata.librivox[0].data),
    )
    assert error.code == 400
    assert _message(error) == (
        "sample_rate_hertz (44100) in RecognitionConfig must either be omitted or match the "
        "value in the WAV header ( 16000)."
    )


def test_corrupt_flac(client):
    corrupt = b"fLaC" + bytes(np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8))
    error = _bad(
        client,
        _config(encoding=speech.RecognitionConfig.AudioEncoding.FLAC),
        speech.RecognitionAudio(content=corrupt),
    )
    assert error.code == 400
    assert "FLAC" in _message(error)


def test_truncated_flac(client, testdata):
    data, rate = soundfile.read(testdata.librivox[0].path, dtype="int16")
    buffer = io.BytesIO()
    soundfile.write(buffer, data, rate, format="FLAC")
    cut = buffer.getvalue()[:200]
    with pytest.raises(exceptions.GoogleAPICallError) as caught:
        client.recognize(config=_config(), audio=speech.RecognitionAudio(content=cut))
    assert caught.value.code == 400


def test_audio_over_the_sync_limit(client):
    long = np.zeros(16000 * 61, dtype=np.int16)
    error = _bad(client, _config(), speech.RecognitionAudio(content=_wav(long)))
    assert error.code == 400
    assert _message(error) == limits.SYNC_TOO_LONG


def test_inline_long_running_over_one_minute(client):
    long = np.zeros(16000 * 61, dtype=np.int16)
    with pytest.raises(exceptions.GoogleAPICallError) as caught:
        client.long_running_recognize(
            config=_config(), audio=speech.RecognitionAudio(content=_wav(long))
        )
    assert caught.value.code == 400
    assert _message(caught.value) == limits.INLINE_TOO_LONG


def test_content_over_10_mb(speech_service):
    content = base64.b64encode(b"\0" * (limits.SYNC_MAX_BYTES + 1)).decode()
    status, body = _post(
        f"{speech_service.url}/v1/speech:recognize",
        {"config": {"languageCode": "en-US", "encoding": "LINEAR16", "sampleRateHertz": 16000},
         "audio": {"content": content}},
    )  # fmt: skip
    assert status == 400
    assert body["error"]["message"] == limits.PAYLOAD_TOO_LARGE


def test_both_content_and_uri(speech_service, testdata):
    for path in ("/v1/speech:recognize", "/v1/speech:longrunningrecognize"):
        status, body = _post(
            speech_service.url + path,
            {"config": {"languageCode": "en-US"},
             "audio": {"content": base64.b64encode(testdata.cards[0].data).decode(),
                       "uri": "gs://bucket/object.wav"}},
        )  # fmt: skip
        assert status == 400, body
        assert body["error"]["status"] == "INVALID_ARGUMENT"
        assert "both" in body["error"]["message"]


def test_neither_content_nor_uri(speech_service):
    status, body = _post(
        f"{speech_service.url}/v1/speech:recognize", {"config": {"languageCode": "en-US"}}
    )
    assert status == 400
    assert body["error"]["message"] == limits.NO_AUDIO


def test_headerless_audio_without_encoding(client, testdata):
    error = _bad(client, _config(), speech.RecognitionAudio(content=testdata.goforward_raw.data))
    assert error.code == 400
    assert "encoding" in _message(error)


def test_stereo_without_channel_count(client, testdata):
    data, rate = soundfile.read(testdata.cards[0].path, dtype="int16")
    stereo = np.stack([data, data], axis=1)
    error = _bad(client, _config(), speech.RecognitionAudio(content=_wav(stereo, rate)))
    assert (
        _message(error)
        == "Must use single channel (mono) audio, but WAV header indicates 2 channels."
    )


def test_bad_language_code(client, testdata):
    error = _bad(
        client,
        speech.RecognitionConfig(language_code="xx-YY"),
        speech.RecognitionAudio(content=testdata.cards[0].data),
    )
    assert error.code == 400
    assert "language" in _message(error)


def test_diarization_is_unimplemented(client, testdata):
    error = _bad(
        client,
        _config(
            diarization_config=speech.SpeakerDiarizationConfig(enable_speaker_diarization=True)
        ),
        speech.RecognitionAudio(content=testdata.cards[0].data),
    )
    assert error.code == 501
    assert "diarization" in _message(error).lower()


def test_unknown_field(speech_service):
    status, body = _post(
        f"{speech_service.url}/v1/speech:recognize",
        {"config": {"languageCode": "en-US", "sampleRate": 16000}, "audio": {"uri": "gs://a/b"}},
    )
    assert status == 400
    assert "Invalid JSON payload" in body["error"]["message"]


def test_v2_unknown_recognizer(client_v2, testdata):
    with pytest.raises(exceptions.NotFound):
        client_v2.recognize(
            request=speech_v2.RecognizeRequest(
                recognizer="projects/test-project/locations/global/recognizers/mine",
                config=speech_v2.RecognitionConfig(
                    auto_decoding_config={}, language_codes=["en-US"]
                ),
                content=testdata.cards[0].data,
            )
        )
