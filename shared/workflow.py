"""What every event-driven step shares: reading the event off the request, naming results so
that a redelivery rewrites the same object, and answering Pub/Sub in the way that makes it do
the right thing.

- processed (result written, message published): 200, Pub/Sub acknowledges;
- failed for good (not an image, object gone): the error result is written and logged, 200;
  the error result is the record;
- ignored (not an event this step handles: a delete, a result of our own): 200;
- not an event at all (undecodable body): 400, so Pub/Sub redelivers, then dead-letters it,
  where it is kept for a person;
- may succeed later (storage or a dependency down): 503 or 500, redelivered with backoff.

Messages a step publishes carry these attributes (the contract between steps), written and
read only through `StepResult`:
`producer` (the service), `sourceUri` (`gs://bucket/object`), `sourceGeneration`, `resultUri`
(`gs://` of the result object), `contentType`, `languageCode` (when known) and `dedupKey`
(the same for every redelivery of one input, so a consumer can drop duplicates); a step may add
its own (batch prediction: `jobName`, `jobState`). `publish` sends one to `OUTPUT_TOPIC`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import flask

from shared import events
from shared.app import json_body
from shared.errors import ApiError, Code
from shared.storage import GcsUri

if TYPE_CHECKING:
    from shared.service import ServiceContext

log = logging.getLogger("shared.workflow")

# Where every service takes its events (Pub/Sub push, Eventarc); the `<name>_events` target
# answers on any path.
EVENTS_ROUTE = "/events"


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: str  # "processed" | "failed" | "ignored"
    reason: str = ""
    result_uri: str | None = None
    message_id: str | None = None

    @classmethod
    def ignored(cls, reason: str) -> Outcome:
        return cls("ignored", reason)

    def to_json(self) -> dict[str, Any]:
        body = {"status": self.status}
        for key, value in (
            ("reason", self.reason),
            ("resultUri", self.result_uri),
            ("messageId", self.message_id),
        ):
            if value:
                body[key] = value
        return body


def event_from_request() -> events.Event:
    """Decode the current request; an undecodable one is INVALID_ARGUMENT (400)."""
    try:
        event = events.decode(flask.request.headers, json_body())
    except events.EventDecodeError as exc:
        log.warning("undecodable event: %s", exc, extra={"json_fields": {"eventError": str(exc)}})
        raise ApiError(Code.INVALID_ARGUMENT, f"Not a valid event: {exc}.") from None
    log.info(
        "event received",
        extra={
            "json_fields": {
                "eventId": event.id,
                "eventType": event.type,
                "subscription": event.subscription,
                "deliveryAttempt": event.delivery_attempt,
                "object": event.storage_object.uri if event.storage_object else None,
            }
        },
    )
    return event


def respond(outcome: Outcome) -> flask.Response:
    log.info("event %s", outcome.status, extra={"json_fields": outcome.to_json()})
    return flask.make_response(flask.jsonify(outcome.to_json()), 200)


def results_bucket(settings: Any) -> str:
    """The configured results bucket; a missing one is UNAVAILABLE (retried, not lost): once
    it is set, the redelivered event is processed."""
    if not settings.results_bucket:
        raise ApiError(
            Code.UNAVAILABLE,
            "RESULTS_BUCKET is not set; set it and the event will be processed on redelivery.",
        )
    return settings.results_bucket


def result_location(
    bucket: str, producer: str, obj: events.StorageObject, event_id: str, extension: str = "json"
) -> GcsUri:
    """`{producer}/{source bucket}/{object}/{generation}.{ext}` in the results bucket: derived
    from the input only, so every redelivery of one input writes the same object."""
    generation = str(obj.generation) if obj.generation is not None else f"event-{event_id}"
    return GcsUri(bucket, f"{producer}/{obj.bucket}/{obj.name}/{generation}.{extension}")


def dedup_key(scope: str, identity: str) -> str:
    """The same key for every redelivery of one input (`identity`) to one step (`scope`)."""
    return hashlib.sha256(f"{scope}:{identity}".encode()).hexdigest()[:32]


def object_identity(obj: events.StorageObject) -> str:
    return f"{obj.bucket}/{obj.name}#{obj.generation}"


# Pub/Sub's message limit is 10 MB; a larger result is published without data (the consumer
# reads `resultUri`).
MAX_PUBLISHED_BYTES = 5 * 1024 * 1024

_ATTRIBUTES = (
    ("producer", "producer"),
    ("sourceUri", "source_uri"),
    ("sourceGeneration", "source_generation"),
    ("resultUri", "result_uri"),
    ("contentType", "content_type"),
    ("languageCode", "language_code"),
    ("dedupKey", "dedup_key"),
)


@dataclasses.dataclass(frozen=True)
class StepResult:
    """One result a step publishes: the attributes of the contract between steps."""

    producer: str
    result_uri: str
    content_type: str
    source_uri: str = ""
    source_generation: str = ""
    language_code: str = ""
    dedup_key: str = ""
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def of_object(
        cls,
        producer: str,
        source: events.StorageObject,
        result_uri: str | GcsUri,
        content_type: str,
        *,
        language_code: str = "",
        variant: str = "",
    ) -> StepResult:
        """The result of `producer` for one input object; `variant` tells apart several
        results of one input (translation: one per target language)."""
        scope = f"{producer}.{variant}" if variant else producer
        return cls(
            producer=producer,
            result_uri=str(result_uri),
            content_type=content_type,
            source_uri=source.uri,
            source_generation=str(source.generation or ""),
            language_code=language_code,
            dedup_key=dedup_key(scope, object_identity(source)),
        )

    def attributes(self) -> dict[str, str]:
        found = {name: getattr(self, field) for name, field in _ATTRIBUTES}
        return {**{k: v for k, v in found.items() if v}, **self.extra}

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, str]) -> StepResult:
        known = {name for name, _ in _ATTRIBUTES}
        return cls(
            **{field: str(attributes.get(name, "")) for name, field in _ATTRIBUTES},
            extra={k: v for k, v in attributes.items() if k not in known},
        )


def publish(context: ServiceContext, result: StepResult, data: bytes) -> str | None:
    """Publish `result` with `data` to the step's `OUTPUT_TOPIC`; the message id, or None when
    no topic is set."""
    settings = context.settings
    if not settings.output_topic:
        return None
    if len(data) > MAX_PUBLISHED_BYTES:
        data = b""
    return context.publisher.publish(
        settings.topic_path(settings.output_topic), data, result.attributes()
    )


def published(context: ServiceContext, result: StepResult, data: bytes) -> Outcome:
    """Publish `result` and say so: the step's `processed` outcome."""
    message_id = publish(context, result, data)
    if message_id is None:
        return Outcome(
            "processed", "OUTPUT_TOPIC not set: nothing published", result_uri=result.result_uri
        )
    return Outcome("processed", result_uri=result.result_uri, message_id=message_id)


def failed_for_good(
    context: ServiceContext,
    location: GcsUri,
    error: ApiError,
    source_uri: str,
    body: str | None = None,
) -> Outcome:
    """Input that can never succeed: its error result is written (`body`, or the error's
    JSON), logged, and the event acknowledged; the result object is the record."""
    written = body if body is not None else json.dumps(error.to_json())
    context.storage.write(location, written, content_type="application/json")
    log.warning(
        "input could not be processed",
        extra={
            "json_fields": {
                "source": source_uri,
                "code": error.code.name,
                "error": error.message,
                "resultUri": str(location),
            }
        },
    )
    return Outcome("failed", error.message, result_uri=str(location))


def is_own_result(obj: events.StorageObject, results_bucket: str | None, producer: str) -> bool:
    """A result of this step landing in a watched bucket must not trigger the step again."""
    return obj.bucket == results_bucket and obj.name.startswith(f"{producer}/")


def not_a_new_object(event: events.Event, settings: Any, producer: str) -> Outcome | None:
    """Why a step that reads newly written objects (images, audio, documents) ignores
    `event`, or None when it is such an object: not a Cloud Storage event, not a finalize, or
    the step's own result."""
    obj = event.storage_object
    if obj is None:
        return Outcome.ignored("not a Cloud Storage object event")
    if obj.event_type != "OBJECT_FINALIZE":
        return Outcome.ignored(f"{obj.event_type} needs no {producer} step")
    if is_own_result(obj, settings.results_bucket, producer):
        return Outcome.ignored("a result of this step")
    return None
