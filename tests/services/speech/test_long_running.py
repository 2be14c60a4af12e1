"""`long_running_recognize(...).result()` through the client's own polling, with a gs:// uri
in the storage emulator; operations read back and listed through the client's mixins."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile
from google.api_core import exceptions
from google.cloud import speech_v1 as speech
from google.longrunning import operations_pb2

from tests.services.speech.conftest import word_error_rate


def _long_wav(clips, repeats: int) -> tuple[bytes, list[str], float]:
    parts, texts = [], []
    gap = np.zeros(8000, dtype=np.int16)  # half a second between clips
    for _ in range(repeats):
        for clip in clips:
            data, _rate = soundfile.read(clip.path, dtype="int16")
            parts += [data, gap]
            texts.append(clip.transcript)
    audio = np.concatenate(parts)
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, 16000, format="WAV", subtype="PCM_16")
    return buffer.getvalue(), texts, len(audio) / 16000


@pytest.fixture(scope="module")
def long_audio(speech_buckets, testdata):
    audio_bucket, _ = speech_buckets
    data, texts, seconds = _long_wav(testdata.librivox, 3)
    blob = audio_bucket.blob("long/librivox-x3.wav")
    blob.upload_from_string(data, content_type="audio/wav")
    return f"gs://{audio_bucket.name}/{blob.name}", texts, seconds


def _progress_until_done(client, name: str, timeout: float = 600.0) -> list[int]:
    """progressPercent as polled every 0.3 s until the operation is done."""
    import time

    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.get_operation(operations_pb2.GetOperationRequest(name=name))
        metadata = speech.LongRunningRecognizeMetadata.pb()()
        found.metadata.Unpack(metadata)
        seen.append(metadata.progress_percent)
        if found.done:
            return seen
        time.sleep(0.3)  # a poll, as the client's own polling does
    raise TimeoutError(name)


def test_long_running_by_uri_through_the_clients_polling(client, long_audio):
    uri, texts, seconds = long_audio
    assert seconds > 60  # over the sync and inline limits, fine by uri
    operation = client.long_running_recognize(
        config=speech.RecognitionConfig(language_code="en-US", enable_word_time_offsets=True),
        audio=speech.RecognitionAudio(uri=uri),
    )
    assert operation.operation.name.isdigit()
    seen = _progress_until_done(client, operation.operation.name)
    assert any(0 < p < 100 for p in seen), seen  # chunks of 30 s report as they finish
    assert seen == sorted(seen)
    response = operation.result(timeout=600)
    assert operation.metadata.progress_percent == 100
    assert operation.metadata.uri == uri
    text = "".join(r.alternatives[0].transcript for r in response.results)
    assert word_error_rate([" ".join(texts)], [text]) <= 0.10
    ends = [r.result_end_time.total_seconds() for r in response.results]
    assert ends == sorted(ends)
    assert ends[-1] <= seconds + 0.05
    starts = [
        w.start_time.total_seconds() for r in response.results for w in r.alternatives[0].words
    ]
    assert starts == sorted(starts)
    assert starts[-1] > 60
    assert response.total_billed_time.total_seconds() >= 60

    found = client.get_operation(operations_pb2.GetOperationRequest(name=operation.operation.name))
    assert found.done
    assert found.name == operation.operation.name
    listed = client.list_operations(operations_pb2.ListOperationsRequest(name="", page_size=1000))
    assert operation.operation.name in [o.name for o in listed.operations]


def test_long_running_inline_short_audio_and_output_config(client, testdata, speech_buckets):
    _, results_bucket = speech_buckets
    target = f"gs://{results_bucket.name}/outputs/short.json"
    operation = client.long_running_recognize(
        request=speech.LongRunningRecognizeRequest(
            config=speech.RecognitionConfig(language_code="en-US"),
            audio=speech.RecognitionAudio(content=testdata.librivox[1].data),
            output_config=speech.TranscriptOutputConfig(gcs_uri=target),
        )
    )
    response = operation.result(timeout=300)
    text = "".join(r.alternatives[0].transcript for r in response.results)
    assert word_error_rate([testdata.librivox[1].transcript], [text]) <= 0.15
    assert b"results" in results_bucket.blob("outputs/short.json").download_as_bytes()


def test_list_operations_pages(client, testdata):
    for _ in range(2):
        client.long_running_recognize(
            config=speech.RecognitionConfig(language_code="en-US"),
            audio=speech.RecognitionAudio(content=testdata.cards[0].data),
        ).result(timeout=300)
    first = client.list_operations(operations_pb2.ListOperationsRequest(page_size=1))
    assert len(first.operations) == 1
    assert first.next_page_token
    second = client.list_operations(
        operations_pb2.ListOperationsRequest(page_size=1, page_token=first.next_page_token)
    )
    assert second.operations[0].name > first.operations[0].name


def test_unknown_operation_is_not_found(client):
    for name in ("123456789", "not-a-number"):
        with pytest.raises(exceptions.NotFound):
            client.get_operation(operations_pb2.GetOperationRequest(name=name))


def test_missing_object_fails_the_operation(client, speech_buckets):
    audio_bucket, _ = speech_buckets
    operation = client.long_running_recognize(
        config=speech.RecognitionConfig(language_code="en-US"),
        audio=speech.RecognitionAudio(uri=f"gs://{audio_bucket.name}/no/such.wav"),
    )
    with pytest.raises(exceptions.GoogleAPICallError) as caught:
        operation.result(timeout=120)
    assert "no/such.wav" in str(caught.value)


def test_an_operation_left_by_a_dead_instance_is_taken_over(client, speech_buckets, testdata):
    """An operation whose instance died mid-job (not done, not updated for longer than
    SPEECH_STALE_SECONDS) is claimed by the next poll and finished from its stored request."""
    import base64
    import json

    _, results = speech_buckets
    name = "7000000000000000001"
    request = {
        "config": {"languageCode": "en-US"},
        "audio": {"content": base64.b64encode(testdata.librivox[1].data).decode()},
    }
    stamp = "2020-01-01T00:00:00.000000Z"
    operation = {
        "name": name,
        "metadata": {
            "@type": "type.googleapis.com/google.cloud.speech.v1.LongRunningRecognizeMetadata",
            "progressPercent": 40,
            "startTime": stamp,
            "lastUpdateTime": stamp,
        },
    }
    results.blob(f"speech/operations/{name}.request.json").upload_from_string(
        json.dumps(request), content_type="application/json"
    )
    results.blob(f"speech/operations/{name}.json").upload_from_string(
        json.dumps(operation), content_type="application/json"
    )
    from google.api_core import operation as api_operation

    polled = api_operation.from_gapic(
        client.get_operation(operations_pb2.GetOperationRequest(name=name)),
        client._transport.operations_client,
        speech.LongRunningRecognizeResponse,
        metadata_type=speech.LongRunningRecognizeMetadata,
    )
    response = polled.result(timeout=300)
    text = "".join(r.alternatives[0].transcript for r in response.results)
    assert word_error_rate([testdata.librivox[1].transcript], [text]) <= 0.15
