"""The text -> translations step: on a `text-ready` message, translate the text into each of
`TRANSLATION_TARGET_LANGUAGES`, write each translation to the results bucket under a name
derived from the source (`translation/{bucket}/{object}/{generation}.{lang}.txt`), and publish
each to the output topic (data: the translated text; attributes: `shared.workflow`'s contract,
`languageCode` the target, `dedupKey` per source and target).

A target equal to the text's language is skipped; a target that the backend refuses for good
(no installed pair) is reported in the outcome and the others are still done; storage, engine
or publishing trouble is raised, so Pub/Sub redelivers, and the redelivery rewrites the same
objects. Messages published by this step itself are ignored.
"""

from __future__ import annotations

import logging

import flask
from google.cloud import translate_v3 as translate

from shared import events, textready, workflow
from shared.errors import RETRYABLE, ApiError
from shared.service import context_of

log = logging.getLogger("services.translation.workflow")

EVENTS_ROUTE = workflow.EVENTS_ROUTE
PRODUCER = "translation"


def event_route() -> flask.Response:
    context = context_of("translation")
    return workflow.respond(handle(workflow.event_from_request(), context))


def handle(event: events.Event, context) -> workflow.Outcome:
    settings = context.settings
    message = textready.accept(event, PRODUCER)
    if isinstance(message, workflow.Outcome):
        return message
    if not message.text.strip():
        return workflow.Outcome("failed", "the text is empty")
    bucket = workflow.results_bucket(settings)
    parent = f"projects/{settings.google_cloud_project}/locations/global"
    done: list[str] = []
    problems: list[str] = []
    last_id: str | None = None
    for target in settings.target_languages:
        request = translate.TranslateTextRequest(
            parent=parent,
            contents=[message.text],
            mime_type="text/plain",
            source_language_code=message.language_code,
            target_language_code=target,
        )
        try:
            translation = context.backend.translate_text(request).translations[0]
        except ApiError as error:
            if error.code in RETRYABLE:
                raise
            problems.append(f"{target}: {error.message}")
            continue
        source_language = message.language_code or translation.detected_language_code
        if source_language.split("-")[0] == target.split("-")[0]:
            problems.append(f"{target}: the text is already in {target}")
            continue
        location = workflow.result_location(
            bucket, PRODUCER, message.source, event.id, extension=f"{target}.txt"
        )
        context.storage.write(
            location, translation.translated_text, content_type="text/plain; charset=utf-8"
        )
        done.append(str(location))
        if settings.output_topic:
            last_id = context.publisher.publish(
                settings.topic_path(settings.output_topic),
                translation.translated_text.encode("utf-8"),
                {
                    "producer": PRODUCER,
                    "sourceUri": message.source.uri,
                    "sourceGeneration": str(message.source.generation or ""),
                    "resultUri": str(location),
                    "contentType": "text/plain; charset=utf-8",
                    "languageCode": target,
                    "dedupKey": workflow.dedup_key(f"{PRODUCER}.{target}", message.source),
                },
            )
    reason = "; ".join(problems)
    if problems:
        log.warning("some targets not translated", extra={"json_fields": {"problems": problems}})
    if not done:
        return workflow.Outcome("failed", reason)
    return workflow.Outcome("processed", reason, result_uri=done[0], message_id=last_id)
