"""The `text-ready` message: both halves of the contract, the producer's and the consumer's.

A producer (vision, speech, documentai) publishes the text as UTF-8 message data with the
attributes of `shared.workflow`'s contract (`StepResult`): `producer`, `sourceUri`,
`sourceGeneration`, `resultUri`, `contentType`, `languageCode`, `dedupKey` (`publish`). A
consumer (language, translation) reads it with `accept`, and names its results after the source
(`sourceUri` + `sourceGeneration`), so a redelivery rewrites the same objects; a message without
`sourceUri` is named after its `dedupKey`, or else its message id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared import events
from shared.errors import ApiError
from shared.storage import GcsUri, parse_gs_uri
from shared.workflow import Outcome, StepResult, published

if TYPE_CHECKING:
    from shared.service import ServiceContext

CONTENT_TYPE = "text/plain; charset=utf-8"

# Where results of messages that name no source object go, under the results bucket's prefix.
UNNAMED_SOURCE_BUCKET = "pubsub-messages"


@dataclasses.dataclass(frozen=True)
class TextReady:
    text: str
    source: events.StorageObject
    language_code: str
    producer: str
    attributes: dict[str, str]


class NotText(ValueError):
    """The message cannot be read as text; redelivering it will not change that."""


def publish(
    context: ServiceContext,
    producer: str,
    source: events.StorageObject,
    result_uri: str | GcsUri,
    text: str,
    language_code: str = "",
) -> Outcome:
    """Publish `text`, read by `producer` from `source` (its full result at `result_uri`), as
    a text-ready message; the step's `processed` outcome."""
    result = StepResult.of_object(
        producer, source, result_uri, CONTENT_TYPE, language_code=language_code
    )
    return published(context, result, text.encode("utf-8"))


def from_event(event: events.Event) -> TextReady | None:
    """The text-ready message in `event`; None when the event is not a Pub/Sub message
    carrying text (a storage notification, say). Raises NotText for undecodable text."""
    message = event.message
    if message is None or event.storage_object is not None:
        return None
    attributes = dict(message.attributes)
    try:
        text = message.data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotText("message data is not UTF-8 text") from None
    result = StepResult.from_attributes(attributes)
    return TextReady(
        text=text,
        source=_source(result, message.message_id),
        language_code=result.language_code,
        producer=result.producer,
        attributes=attributes,
    )


def _source(result: StepResult, message_id: str) -> events.StorageObject:
    uri, generation = result.source_uri, result.source_generation
    if uri:
        try:
            location = parse_gs_uri(uri)
        except ApiError as error:
            raise NotText(f"sourceUri: {error.message}") from None
        return events.StorageObject(
            bucket=location.bucket,
            name=location.name,
            generation=int(generation) if generation.isdigit() else None,
        )
    key = result.dedup_key or f"message-{message_id}"
    return events.StorageObject(bucket=UNNAMED_SOURCE_BUCKET, name=key, generation=0)


def accept(event: events.Event, consumer: str) -> TextReady | Outcome:
    """The text-ready message a step named `consumer` should process, or the Outcome to answer
    instead: ignored when the event is not a text message or is the step's own, failed (for
    good, acknowledged) when its text cannot be read."""
    try:
        message = from_event(event)
    except NotText as exc:
        return Outcome("failed", str(exc))
    if message is None:
        return Outcome.ignored("not a text-ready message")
    if message.producer == consumer:
        return Outcome.ignored("a message of this step")
    return message


TextHandler = Callable[[TextReady, "ServiceContext", str], Outcome]


def consumer(name: str, handle: TextHandler) -> Callable[[events.Event, ServiceContext], Outcome]:
    """The event step of a service named `name` that consumes text-ready messages: `handle`
    gets each one it should process (with the context and the event's id); everything else
    is answered as `accept` says."""

    def on_event(event: events.Event, context: ServiceContext) -> Outcome:
        message = accept(event, name)
        if isinstance(message, Outcome):
            return message
        return handle(message, context, event.id)

    return on_event
