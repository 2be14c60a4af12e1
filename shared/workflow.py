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

Messages a step publishes carry these attributes (the contract between steps):
`producer` (the service), `sourceUri` (`gs://bucket/object`), `sourceGeneration`, `resultUri`
(`gs://` of the result object), `contentType`, `languageCode` (when known) and `dedupKey`
(the same for every redelivery of one input, so a consumer can drop duplicates).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from typing import Any

import flask

from shared import events
from shared.app import json_body
from shared.errors import ApiError, Code
from shared.storage import GcsUri

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


def dedup_key(producer: str, obj: events.StorageObject) -> str:
    raw = f"{producer}:{obj.bucket}/{obj.name}#{obj.generation}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def is_own_result(obj: events.StorageObject, results_bucket: str | None, producer: str) -> bool:
    """A result of this step landing in a watched bucket must not trigger the step again."""
    return obj.bucket == results_bucket and obj.name.startswith(f"{producer}/")
