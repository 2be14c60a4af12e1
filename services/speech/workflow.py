"""The audio -> text step: on an audio object finalized (the topology's audio bucket),
recognise it as a long-running recognition would (`SPEECH_WORKFLOW_LANGUAGE`, punctuation and
word offsets on, every channel separately when there are several), write the
`LongRunningRecognizeResponse` JSON to the results bucket
(`speech/{bucket}/{object}/{generation}.json`) and publish the transcript as `text-ready`, so
audio joins the language and translation pipeline.

The job runs inside the push request (Pub/Sub's ack deadline, up to 600 s, bounds what one
delivery can do; longer audio belongs to `longrunningrecognize`). Audio that cannot be
decoded is written as an error result and acknowledged; storage trouble is raised, so Pub/Sub
redelivers and the redelivery rewrites the same result.
"""

from __future__ import annotations

from shared import events, textready, workflow
from shared.errors import RETRYABLE, ApiError
from shared.gapictypes import message_types
from shared.protojson import to_json
from shared.service import ServiceContext

speech = message_types("google.cloud.speech_v1")

PRODUCER = "speech"


def _request(uri: str, language: str, channels: int) -> speech.LongRunningRecognizeRequest:
    return speech.LongRunningRecognizeRequest(
        config=speech.RecognitionConfig(
            language_code=language,
            enable_automatic_punctuation=True,
            enable_word_time_offsets=True,
            audio_channel_count=channels,
            enable_separate_recognition_per_channel=channels > 1,
        ),
        audio=speech.RecognitionAudio(uri=uri),
    )


def _recognise(context: ServiceContext, uri: str) -> speech.LongRunningRecognizeResponse:
    language = context.settings.workflow_language
    try:
        return context.backend.long_running_recognize(_request(uri, language, 1))
    except ApiError as error:
        # A WAV or FLAC with several channels: ask again with the count its header gives.
        marker = "header indicates "
        if marker not in error.message:
            raise
        channels = int(error.message.split(marker)[1].split()[0])
        return context.backend.long_running_recognize(_request(uri, language, channels))


def handle(event: events.Event, context: ServiceContext) -> workflow.Outcome:
    settings = context.settings
    if (skipped := workflow.not_a_new_object(event, settings, PRODUCER)) is not None:
        return skipped
    obj = event.storage_object
    bucket = workflow.results_bucket(settings)
    location = workflow.result_location(bucket, PRODUCER, obj, event.id)
    try:
        response = _recognise(context, obj.uri)
    except ApiError as error:
        if error.code in RETRYABLE:
            raise
        return workflow.failed_for_good(context, location, error, obj.uri)
    context.storage.write(location, to_json(response), content_type="application/json")
    first_channel = min((r.channel_tag for r in response.results), default=0)
    text = "".join(
        r.alternatives[0].transcript
        for r in response.results
        if r.alternatives and r.channel_tag == first_channel
    ).strip()
    if not text:
        return workflow.Outcome("processed", "no speech found", result_uri=str(location))
    language = response.results[0].language_code if response.results else ""
    return textready.publish(context, PRODUCER, obj, location, text, language)
