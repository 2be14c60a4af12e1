"""The text -> annotations step: on a `text-ready` message, run annotateText (v1) on the text
with `LANGUAGE_WORKFLOW_FEATURES`, write the `AnnotateTextResponse` JSON to the results bucket
under a name derived from the source (`language/{bucket}/{object}/{generation}.json`), and
publish it to the output topic with the attributes of `shared.workflow`'s contract.

Outcomes (see `shared.workflow`): text the backend refuses for good (a language it does not
support, blank text) is written as an error result `{"error": {...}}` and answered 200;
storage or publishing down is raised, so Pub/Sub redelivers; a redelivery rewrites the same
object and publishes the same `dedupKey`.
"""

from __future__ import annotations

from services.language.backends.base import V1
from shared import textready, workflow
from shared.errors import RETRYABLE, ApiError, Code
from shared.gapictypes import message_types
from shared.protojson import to_json
from shared.service import ServiceContext

language_v1 = message_types("google.cloud.language_v1")

PRODUCER = "language"


def annotate(
    message: textready.TextReady, context: ServiceContext, event_id: str
) -> workflow.Outcome:
    settings = context.settings
    bucket = workflow.results_bucket(settings)
    location = workflow.result_location(bucket, PRODUCER, message.source, event_id)
    request = language_v1.AnnotateTextRequest(
        document=language_v1.Document(
            content=message.text,
            type_=language_v1.Document.Type.PLAIN_TEXT,
            language=message.language_code,
        ),
        features=language_v1.AnnotateTextRequest.Features(
            **{_snake(name): True for name in settings.workflow_features}
        ),
        encoding_type=language_v1.EncodingType.UTF8,
    )
    try:
        if not message.text.strip():
            raise ApiError(Code.INVALID_ARGUMENT, "The text is empty.")
        response = context.backend.call(V1["annotateText"], request)
    except ApiError as error:
        if error.code in RETRYABLE:
            raise
        return workflow.failed_for_good(context, location, error, message.source.uri)

    body = to_json(response)
    context.storage.write(location, body, content_type="application/json")
    result = workflow.StepResult.of_object(
        PRODUCER, message.source, location, "application/json", language_code=response.language
    )
    return workflow.published(context, result, body.encode("utf-8"))


handle = textready.consumer(PRODUCER, annotate)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
