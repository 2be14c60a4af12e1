"""The document -> text step: on a PDF or scan finalized in the documents bucket, process it
with the configured processor (`DOCUMENTAI_WORKFLOW_PROCESSOR`), write the Document JSON to
the results bucket and publish its text to the output topic (text-ready).

The result is named after the input (`documentai/{bucket}/{object}/{generation}/`), holding
the Document's shards as Google's batch output does (`{name}-{k}.json`, one shard for up to
`DOCUMENTAI_SHARD_PAGES` pages); the message's `resultUri` is the first shard. Documents are
read with batch limits (a workflow has no 15-page online limit). Input that can never be read
(not a document, encrypted, too many pages) is written as an error result and acknowledged;
storage trouble is raised, so the event is redelivered.
"""

from __future__ import annotations

import posixpath

from services.documentai import shards
from services.documentai.backends.base import Limits
from services.documentai.batch import guess_mime_type
from shared import events, textready, workflow
from shared.errors import ApiError
from shared.gapictypes import message_types
from shared.storage import GcsUri

documentai = message_types("google.cloud.documentai_v1")

PRODUCER = "documentai"


def handle(event: events.Event, context) -> workflow.Outcome:
    settings = context.settings
    if (skipped := workflow.not_a_new_object(event, settings, PRODUCER)) is not None:
        return skipped
    obj = event.storage_object
    bucket = workflow.results_bucket(settings)
    location = workflow.result_location(bucket, PRODUCER, obj, event.id)
    directory = location.name[: -len(".json")]
    stem = posixpath.splitext(posixpath.basename(obj.name))[0] or "document"
    first = GcsUri(bucket, f"{directory}/{stem}-0.json")

    processor_id = settings.workflow_processor
    try:
        config = context.processors.get(
            settings.google_cloud_project, settings.location, processor_id
        )
        kind = context.processors.types[config.type]
        mime_type = obj.content_type if obj.content_type in _TYPES else guess_mime_type(obj.name)
        name = (
            f"projects/{settings.google_cloud_project}/locations/{settings.location}"
            f"/processors/{processor_id}"
        )
        request = documentai.ProcessRequest(
            name=name,
            gcs_document=documentai.GcsDocument(gcs_uri=obj.uri, mime_type=mime_type),
            imageless_mode=True,
        )
        limits = Limits(
            online=False, batch_pages=kind.batch_pages, max_bytes=settings.max_batch_document_bytes
        )
        response = context.backend.process(request, config.type, limits)
    except ApiError as error:
        if error.retryable:
            raise
        return workflow.failed_for_good(context, first, error, obj.uri)

    doc = response.document
    for k, (shard, _count) in enumerate(shards.split(doc, settings.shard_pages)):
        context.storage.write(
            GcsUri(bucket, f"{directory}/{stem}-{k}.json"),
            shards.to_json(shard),
            content_type="application/json",
        )
    if not doc.text.strip():
        return workflow.Outcome("processed", "no text found", result_uri=str(first))
    language = ""
    for page in doc.pages:
        if page.detected_languages:
            language = page.detected_languages[0].language_code
            break
    return textready.publish(context, PRODUCER, obj, first, doc.text, language)


_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "image/gif",
    "image/bmp",
    "image/webp",
)
