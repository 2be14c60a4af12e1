"""The `text-ready` message, as the steps that consume it (language, translation) read it.

A producer (vision, speech, documentai) publishes the text as UTF-8 message data with the
attributes of `shared.workflow`'s contract: `producer`, `sourceUri`, `sourceGeneration`,
`resultUri`, `contentType`, `languageCode`, `dedupKey`. A consumer names its results after the
source (`sourceUri` + `sourceGeneration`), so a redelivery rewrites the same objects; a message
without `sourceUri` is named after its `dedupKey`, or else its message id.
"""

from __future__ import annotations

import dataclasses

from shared import events
from shared.errors import ApiError
from shared.storage import parse_gs_uri
from shared.workflow import Outcome

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
    return TextReady(
        text=text,
        source=_source(attributes, message.message_id),
        language_code=attributes.get("languageCode", ""),
        producer=attributes.get("producer", ""),
        attributes=attributes,
    )


def _source(attributes: dict[str, str], message_id: str) -> events.StorageObject:
    uri = attributes.get("sourceUri", "")
    generation = attributes.get("sourceGeneration", "")
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
    key = attributes.get("dedupKey") or f"message-{message_id}"
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
