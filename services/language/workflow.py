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

import json
import logging

import flask
from google.cloud import language_v1

from services.language.backends.base import V1
from shared import events, textready, workflow
from shared.errors import RETRYABLE, ApiError, Code
from shared.protojson import to_json
from shared.service import context_of

log = logging.getLogger("services.language.workflow")

EVENTS_ROUTE = workflow.EVENTS_ROUTE
PRODUCER = "language"
# Pub/Sub's message limit is 10 MB; a larger result is published without data (read resultUri).
MAX_PUBLISHED_BYTES = 5 * 1024 * 1024


def event_route() -> flask.Response:
    context = context_of("language")
    return workflow.respond(handle(workflow.event_from_request(), context))


def handle(event: events.Event, context) -> workflow.Outcome:
    settings = context.settings
    message = textready.accept(event, PRODUCER)
    if isinstance(message, workflow.Outcome):
        return message
    bucket = workflow.results_bucket(settings)
    location = workflow.result_location(bucket, PRODUCER, message.source, event.id)
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
        context.storage.write(location, json.dumps(error.to_json()), "application/json")
        log.warning(
            "text could not be annotated",
            extra={
                "json_fields": {
                    "source": message.source.uri,
                    "code": error.code.name,
                    "error": error.message,
                    "resultUri": str(location),
                }
            },
        )
        return workflow.Outcome("failed", error.message, result_uri=str(location))

    body = to_json(response)
    context.storage.write(location, body, content_type="application/json")
    if not settings.output_topic:
        return workflow.Outcome(
            "processed", "OUTPUT_TOPIC not set: nothing published", result_uri=str(location)
        )
    attributes = {
        "producer": PRODUCER,
        "sourceUri": message.source.uri,
        "sourceGeneration": str(message.source.generation or ""),
        "resultUri": str(location),
        "contentType": "application/json",
        "languageCode": response.language,
        "dedupKey": workflow.dedup_key(PRODUCER, message.source),
    }
    data = body.encode("utf-8")
    message_id = context.publisher.publish(
        settings.topic_path(settings.output_topic),
        data if len(data) <= MAX_PUBLISHED_BYTES else b"",
        attributes,
    )
    return workflow.Outcome("processed", result_uri=str(location), message_id=message_id)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
