"""v2 `batchRecognize` through `speech_v2.SpeechClient` over REST and its own polling of
`/v2/projects/*/locations/*/operations/*`: files by gs:// uri, results inline or in storage,
a failing file reported beside the others."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import speech_v2
from google.longrunning import operations_pb2

from tests.services.speech.conftest import word_error_rate

RECOGNIZER = "projects/test-project/locations/global/recognizers/_"


def _config() -> speech_v2.RecognitionConfig:
    return speech_v2.RecognitionConfig(
        auto_decoding_config=speech_v2.AutoDetectDecodingConfig(),
        language_codes=["en-US"],
        features=speech_v2.RecognitionFeatures(enable_automatic_punctuation=True),
    )


@pytest.fixture(scope="module")
def uploaded(speech_buckets, testdata):
    audio, _ = speech_buckets
    clips = testdata.librivox[2:4]
    uris = []
    for index, clip in enumerate(clips):
        blob = audio.blob(f"batch/clip-{index}.wav")
        blob.upload_from_string(clip.data, content_type="audio/wav")
        uris.append(f"gs://{audio.name}/{blob.name}")
    return list(zip(uris, clips, strict=True))


def _text(results) -> str:
    return "".join(r.alternatives[0].transcript for r in results)


def test_batch_recognize_inline_with_a_missing_file(client_v2, uploaded, speech_buckets):
    audio, _ = speech_buckets
    missing = f"gs://{audio.name}/batch/none.wav"
    operation = client_v2.batch_recognize(
        request=speech_v2.BatchRecognizeRequest(
            recognizer=RECOGNIZER,
            config=_config(),
            files=[speech_v2.BatchRecognizeFileMetadata(uri=u) for u, _ in uploaded]
            + [speech_v2.BatchRecognizeFileMetadata(uri=missing)],
            recognition_output_config=speech_v2.RecognitionOutputConfig(
                inline_response_config=speech_v2.InlineOutputConfig()
            ),
        )
    )
    name = operation.operation.name
    assert name.startswith("projects/test-project/locations/global/operations/")
    response = operation.result(timeout=600)
    assert operation.metadata.progress_percent == 100
    for uri, clip in uploaded:
        transcript = response.results[uri].inline_result.transcript
        assert word_error_rate([clip.transcript], [_text(transcript.results)]) <= 0.15
        assert transcript.results[0].language_code == "en-us"
    assert response.results[missing].error.code == 5
    assert response.total_billed_duration.total_seconds() >= 2

    listed = client_v2.list_operations(
        operations_pb2.ListOperationsRequest(name="projects/test-project/locations/global")
    )
    assert name in [o.name for o in listed.operations]
    found = client_v2.get_operation(operations_pb2.GetOperationRequest(name=name))
    assert found.done


def test_batch_recognize_into_storage(client_v2, uploaded, speech_buckets):
    _, results = speech_buckets
    uri, clip = uploaded[0]
    response = client_v2.batch_recognize(
        request=speech_v2.BatchRecognizeRequest(
            recognizer=RECOGNIZER,
            config=_config(),
            files=[speech_v2.BatchRecognizeFileMetadata(uri=uri)],
            recognition_output_config=speech_v2.RecognitionOutputConfig(
                gcs_output_config=speech_v2.GcsOutputConfig(uri=f"gs://{results.name}/batch-out")
            ),
        )
    ).result(timeout=600)
    target = response.results[uri].cloud_storage_result.uri
    assert target.startswith(f"gs://{results.name}/batch-out/clip-0_transcript_")
    stored = speech_v2.BatchRecognizeResults.from_json(
        results.blob(target.split("/", 3)[3]).download_as_bytes()
    )
    assert word_error_rate([clip.transcript], [_text(stored.results)]) <= 0.15


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"files": []}, exceptions.BadRequest),
        ({"recognition_output_config": None}, exceptions.BadRequest),
        ({"recognizer": "projects/test-project/locations/global/recognizers/mine"},
         exceptions.NotFound),
    ],
)  # fmt: skip
def test_batch_recognize_bad_requests(client_v2, uploaded, fields, error):
    values = {
        "recognizer": RECOGNIZER,
        "config": _config(),
        "files": [speech_v2.BatchRecognizeFileMetadata(uri=uploaded[0][0])],
        "recognition_output_config": speech_v2.RecognitionOutputConfig(
            inline_response_config=speech_v2.InlineOutputConfig()
        ),
    }
    values.update(fields)
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(error):
        client_v2.batch_recognize(request=speech_v2.BatchRecognizeRequest(**values))


def test_unknown_v2_operation_is_not_found(client_v2):
    with pytest.raises(exceptions.NotFound):
        client_v2.get_operation(
            operations_pb2.GetOperationRequest(
                name="projects/test-project/locations/global/operations/42"
            )
        )
