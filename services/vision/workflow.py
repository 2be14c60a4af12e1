"""The image -> text step: on an image object finalized, annotate it, write the
`AnnotateImageResponse` JSON to the results bucket and publish the text to the output topic.

See `shared.workflow` for how outcomes map to HTTP answers and the attributes published.
A per-image error that retrying can fix (storage unavailable) is raised, so the event is
redelivered; one that it cannot (not an image, object deleted) is written as the result.
"""

from __future__ import annotations

from shared import events, textready, workflow
from shared.errors import RETRYABLE, ApiError, Code
from shared.gapictypes import message_types
from shared.protojson import to_json
from shared.service import ServiceContext

vision = message_types("google.cloud.vision_v1")

PRODUCER = "vision"


def handle(event: events.Event, context: ServiceContext) -> workflow.Outcome:
    settings = context.settings
    if (skipped := workflow.not_a_new_object(event, settings, PRODUCER)) is not None:
        return skipped
    obj = event.storage_object
    bucket = workflow.results_bucket(settings)

    request = vision.AnnotateImageRequest(
        image=vision.Image(source=vision.ImageSource(gcs_image_uri=obj.uri)),
        features=[
            vision.Feature(type_=vision.Feature.Type[name]) for name in settings.workflow_features
        ],
    )
    batch = context.backend.annotate_images(vision.BatchAnnotateImagesRequest(requests=[request]))
    response = batch.responses[0]
    if response.error.code and Code(response.error.code) in RETRYABLE:
        raise ApiError(Code(response.error.code), response.error.message)

    location = workflow.result_location(bucket, PRODUCER, obj, event.id)
    if response.error.code:
        error = ApiError(Code(response.error.code), response.error.message)
        return workflow.failed_for_good(context, location, error, obj.uri, body=to_json(response))
    context.storage.write(location, to_json(response), content_type="application/json")

    text = response.full_text_annotation.text
    if not text.strip():
        return workflow.Outcome("processed", "no text found", result_uri=str(location))
    language = response.text_annotations[0].locale if response.text_annotations else ""
    return textready.publish(context, PRODUCER, obj, location, text, language)
