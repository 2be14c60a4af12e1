"""The text -> translations step: on a `text-ready` message, translate the text into each of
`TRANSLATION_TARGET_LANGUAGES`, write each translation to the results bucket under a name
derived from the source (`translation/{bucket}/{object}/{generation}.{lang}.txt`), and publish
each to the output topic (data: the translated text; attributes: `shared.workflow`'s contract,
`languageCode` the target, `dedupKey` per source and target).

A target equal to the text's language is skipped; a target that the backend refuses for good
(no installed pair) is reported in the outcome and the others are still done; when no target can be
done (blank text, no installed pair for any target), an error result `{"error": {...}}` naming
each target's problem is written to `translation/{bucket}/{object}/{generation}.json`, as vision
and language do, and the event is acknowledged. Storage, engine or publishing trouble is raised,
so Pub/Sub redelivers, and the redelivery rewrites the same objects. Messages published by this
step itself are ignored.
"""

from __future__ import annotations

import logging

from shared import textready, workflow
from shared.errors import RETRYABLE, ApiError, Code
from shared.gapictypes import message_types
from shared.service import ServiceContext

translate = message_types("google.cloud.translate_v3")

log = logging.getLogger("services.translation.workflow")

PRODUCER = "translation"


def translate_text(
    message: textready.TextReady, context: ServiceContext, event_id: str
) -> workflow.Outcome:
    settings = context.settings
    bucket = workflow.results_bucket(settings)
    if not message.text.strip():
        return _nothing_translated(context, bucket, message, event_id, ["the text is empty"])
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
            bucket, PRODUCER, message.source, event_id, extension=f"{target}.txt"
        )
        context.storage.write(location, translation.translated_text, textready.CONTENT_TYPE)
        done.append(str(location))
        result = workflow.StepResult.of_object(
            PRODUCER,
            message.source,
            location,
            textready.CONTENT_TYPE,
            language_code=target,
            variant=target,
        )
        last_id = workflow.publish(context, result, translation.translated_text.encode("utf-8"))
    if not done:
        return _nothing_translated(context, bucket, message, event_id, problems)
    reason = "; ".join(problems)
    if problems:
        log.warning("some targets not translated", extra={"json_fields": {"problems": problems}})
    return workflow.Outcome("processed", reason, result_uri=done[0], message_id=last_id)


handle = textready.consumer(PRODUCER, translate_text)


def _nothing_translated(
    context: ServiceContext,
    bucket: str,
    message: textready.TextReady,
    event_id: str,
    problems: list[str],
) -> workflow.Outcome:
    """No target could be done, and retrying cannot change that: the error result."""
    location = workflow.result_location(bucket, PRODUCER, message.source, event_id)
    error = ApiError(Code.INVALID_ARGUMENT, "; ".join(problems))
    return workflow.failed_for_good(context, location, error, message.source.uri)
