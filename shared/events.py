"""Event decoding in one place: every way Google delivers an event to a service, to one `Event`.

Accepted shapes (see tests/shared/events/ for a real-format example of each):

- Pub/Sub push, wrapped: a JSON body with `message` (`data`, `attributes`, `messageId` /
  `message_id`, `publishTime` / `publish_time`, `orderingKey`), `subscription`,
  `deliveryAttempt`;
- Pub/Sub push, unwrapped (`no_wrapper` + `write_metadata`): the raw data as the body, metadata
  in `x-goog-pubsub-*` headers, attributes as plain headers;
- CloudEvent, binary mode (Eventarc): `ce-*` headers, the data in the body;
- CloudEvent, structured mode: `application/cloudevents+json`, one JSON object with `data` or
  `data_base64`.

A Pub/Sub message that is a Cloud Storage notification (attributes `eventType`, `bucketId`,
`objectId`, `objectGeneration`, payload JSON_API_V1 or NONE) and a
`google.cloud.storage.object.v1.*` CloudEvent both yield `Event.storage_object`. int64 fields
(`generation`, `metageneration`, `size`) are accepted as JSON strings or numbers.

Anything else raises `EventDecodeError`; a service answers it 400, so Pub/Sub retries it and,
after the subscription's maximum delivery attempts, moves it to the dead-letter topic, where it
stays for a person to look at instead of being dropped.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import orjson

from shared.errors import echo

PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
STORAGE_PREFIX = "google.cloud.storage.object.v1."

# Cloud Storage notification `eventType` <-> CloudEvent type suffix.
_STORAGE_EVENT_TYPES = {
    "OBJECT_FINALIZE": "finalized",
    "OBJECT_DELETE": "deleted",
    "OBJECT_ARCHIVE": "archived",
    "OBJECT_METADATA_UPDATE": "metadataUpdated",
}
_STORAGE_EVENT_NAMES = {suffix: name for name, suffix in _STORAGE_EVENT_TYPES.items()}

# Attribute names of Cloud Storage notifications, to restore their case from unwrapped-push
# headers (HTTP header names are case-insensitive; attribute names are not).
_KNOWN_ATTRIBUTES = {
    name.lower(): name
    for name in (
        "notificationConfig",
        "eventType",
        "payloadFormat",
        "bucketId",
        "objectId",
        "objectGeneration",
        "eventTime",
        "overwroteGeneration",
        "overwrittenByGeneration",
    )
}
# Headers that a push request carries for transport, never as message attributes.
_TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "user-agent",
        "accept",
        "accept-encoding",
        "authorization",
        "connection",
        "from",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-cloud-trace-context",
        "traceparent",
        "forwarded",
        "keep-alive",
        "te",
        "expect",
    }
)


_URLSAFE_ONLY = re.compile(r"[-_]")


class EventDecodeError(ValueError):
    """The request is not an event in any shape we know; retrying will not change that."""


@dataclasses.dataclass(frozen=True)
class PubSubMessage:
    data: bytes
    attributes: Mapping[str, str]
    message_id: str
    publish_time: str | None = None
    ordering_key: str | None = None


@dataclasses.dataclass(frozen=True)
class StorageObject:
    """The object an event is about (the JSON_API_V1 object resource, the fields we use)."""

    bucket: str
    name: str
    generation: int | None = None
    metageneration: int | None = None
    content_type: str | None = None
    size: int | None = None
    event_type: str = "OBJECT_FINALIZE"
    md5_hash: str | None = None
    crc32c: str | None = None
    time_created: str | None = None
    updated: str | None = None

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.name}"


@dataclasses.dataclass(frozen=True)
class Event:
    """One delivery, whatever its shape. `id` is stable across redeliveries of the same event."""

    id: str
    type: str
    source: str
    time: str | None = None
    subject: str | None = None
    subscription: str | None = None
    delivery_attempt: int | None = None
    message: PubSubMessage | None = None
    storage_object: StorageObject | None = None
    data: Any = None


def decode(headers: Mapping[str, str], body: bytes) -> Event:
    """Decode one HTTP delivery into an Event, or raise EventDecodeError."""
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "").split(";")[0].strip().lower()
    if "ce-specversion" in lowered:
        return _from_binary_cloudevent(lowered, body)
    if content_type == "application/cloudevents+json":
        return _from_structured_cloudevent(_json_object(body))
    if "x-goog-pubsub-message-id" in lowered:
        return _from_unwrapped_push(lowered, body)
    payload = _json_object(body)
    if "specversion" in payload and "type" in payload:
        return _from_structured_cloudevent(payload)
    if "message" in payload:
        return _from_pubsub_push(payload)
    raise EventDecodeError(
        "not an event: expected a Pub/Sub push envelope or a CloudEvent "
        "(binary `ce-*` headers or structured `application/cloudevents+json`)"
    )


# -- Pub/Sub -------------------------------------------------------------------------------


def _from_pubsub_push(payload: Mapping[str, Any]) -> Event:
    message = _pubsub_message(payload.get("message"))
    subscription = payload.get("subscription")
    return _event_from_message(
        message,
        subscription=subscription if isinstance(subscription, str) else None,
        delivery_attempt=_optional_int(payload, "deliveryAttempt", "delivery_attempt"),
    )


def _pubsub_message(raw: Any) -> PubSubMessage:
    if not isinstance(raw, Mapping):
        raise EventDecodeError("`message` must be an object")
    message_id = _first(raw, "messageId", "message_id")
    if not message_id:
        raise EventDecodeError("`message.messageId` is missing")
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, Mapping) or not all(
        isinstance(v, str) for v in attributes.values()
    ):
        raise EventDecodeError("`message.attributes` must map strings to strings")
    return PubSubMessage(
        data=_b64decode(raw.get("data", ""), "message.data"),
        attributes=dict(attributes),
        message_id=str(message_id),
        publish_time=_first(raw, "publishTime", "publish_time"),
        ordering_key=raw.get("orderingKey") or raw.get("ordering_key") or None,
    )


def _from_unwrapped_push(headers: Mapping[str, str], body: bytes) -> Event:
    attributes = {
        _KNOWN_ATTRIBUTES.get(name, name): value
        for name, value in headers.items()
        if name not in _TRANSPORT_HEADERS and not name.startswith("x-goog-")
    }
    message = PubSubMessage(
        data=body,
        attributes=attributes,
        message_id=headers["x-goog-pubsub-message-id"],
        publish_time=headers.get("x-goog-pubsub-publish-time"),
        ordering_key=headers.get("x-goog-pubsub-ordering-key"),
    )
    return _event_from_message(message, subscription=headers.get("x-goog-pubsub-subscription-name"))


def _event_from_message(
    message: PubSubMessage, *, subscription: str | None, delivery_attempt: int | None = None
) -> Event:
    return Event(
        id=message.message_id,
        type=PUBSUB_PUBLISHED,
        source=_topic_source(subscription),
        time=message.publish_time,
        subscription=subscription,
        delivery_attempt=delivery_attempt,
        message=message,
        storage_object=_storage_notification(message),
    )


def _topic_source(subscription: str | None) -> str:
    # The push envelope names the subscription, not the topic; keep what we know.
    return f"//pubsub.googleapis.com/{subscription}" if subscription else "//pubsub.googleapis.com"


def _storage_notification(message: PubSubMessage) -> StorageObject | None:
    """A Cloud Storage notification carried by a Pub/Sub message, if this is one."""
    attrs = message.attributes
    if "eventType" not in attrs or "bucketId" not in attrs or "objectId" not in attrs:
        return None
    resource: Mapping[str, Any] = {}
    if attrs.get("payloadFormat", "JSON_API_V1") == "JSON_API_V1" and message.data:
        try:
            parsed = orjson.loads(message.data)
        except orjson.JSONDecodeError:
            raise EventDecodeError("storage notification payload is not JSON") from None
        if isinstance(parsed, Mapping):
            resource = parsed
    merged = {
        "bucket": attrs["bucketId"],
        "name": attrs["objectId"],
        "generation": attrs.get("objectGeneration"),
        **{k: v for k, v in resource.items() if v is not None},
    }
    return _storage_object(merged, attrs["eventType"])


# -- CloudEvents -----------------------------------------------------------------------------


def _from_binary_cloudevent(headers: Mapping[str, str], body: bytes) -> Event:
    attributes = {name[3:]: value for name, value in headers.items() if name.startswith("ce-")}
    content_type = headers.get("content-type", "application/json")
    data: Any = body
    if "json" in content_type and body:
        data = _json_any(body)
    return _cloudevent(attributes, data)


def _from_structured_cloudevent(payload: Mapping[str, Any]) -> Event:
    attributes = {k: v for k, v in payload.items() if k not in ("data", "data_base64")}
    if "data_base64" in payload:
        data: Any = _b64decode(payload["data_base64"], "data_base64")
        if "json" in str(payload.get("datacontenttype", "")):
            data = _json_any(data)
    else:
        data = payload.get("data")
    return _cloudevent(attributes, data)


def _cloudevent(attributes: Mapping[str, Any], data: Any) -> Event:
    for required in ("id", "type", "source", "specversion"):
        if not attributes.get(required):
            raise EventDecodeError(f"CloudEvent attribute `{required}` is missing")
    ce_type = str(attributes["type"])
    base = {
        "id": str(attributes["id"]),
        "type": ce_type,
        "source": str(attributes["source"]),
        "time": attributes.get("time"),
        "subject": attributes.get("subject"),
        "data": data,
    }
    if ce_type == PUBSUB_PUBLISHED:
        if not isinstance(data, Mapping):
            raise EventDecodeError("messagePublished data must be an object")
        message = _pubsub_message(data.get("message"))
        subscription = data.get("subscription")
        return dataclasses.replace(
            Event(**base),
            subscription=subscription if isinstance(subscription, str) else None,
            delivery_attempt=_optional_int(data, "deliveryAttempt", "delivery_attempt"),
            message=message,
            storage_object=_storage_notification(message),
        )
    if ce_type.startswith(STORAGE_PREFIX):
        suffix = ce_type[len(STORAGE_PREFIX) :]
        if suffix not in _STORAGE_EVENT_NAMES:
            raise EventDecodeError(f"unknown Cloud Storage event type {ce_type!r}")
        if not isinstance(data, Mapping):
            raise EventDecodeError("storage event data must be the object resource")
        obj = _storage_object(data, _STORAGE_EVENT_NAMES[suffix])
        return dataclasses.replace(Event(**base), storage_object=obj)
    return Event(**base)


# -- small pure helpers ----------------------------------------------------------------------


def _storage_object(resource: Mapping[str, Any], event_type: str) -> StorageObject:
    bucket, name = resource.get("bucket"), resource.get("name")
    if not isinstance(bucket, str) or not bucket or not isinstance(name, str) or not name:
        raise EventDecodeError("storage object resource needs `bucket` and `name`")
    return StorageObject(
        bucket=bucket,
        name=name,
        generation=_int64(resource.get("generation"), "generation"),
        metageneration=_int64(resource.get("metageneration"), "metageneration"),
        content_type=resource.get("contentType"),
        size=_int64(resource.get("size"), "size"),
        event_type=event_type,
        md5_hash=resource.get("md5Hash"),
        crc32c=resource.get("crc32c"),
        time_created=resource.get("timeCreated"),
        updated=resource.get("updated"),
    )


def _int64(value: Any, name: str) -> int | None:
    """proto3 JSON writes int64 as a string; some producers write a number. Accept both."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise EventDecodeError(f"`{name}` must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise EventDecodeError(f"`{name}` must be an integer, got {echo(value)}")


def _optional_int(mapping: Mapping[str, Any], *names: str) -> int | None:
    for name in names:
        if name in mapping:
            return _int64(mapping[name], name)
    return None


def _first(mapping: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if mapping.get(name):
            return mapping[name]
    return None


def _b64decode(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise EventDecodeError(f"`{name}` must be a base64 string")
    # proto3 JSON readers accept the standard and the URL-safe alphabets; so do we.
    alphabet = "+/" if not _URLSAFE_ONLY.search(value) else "-_"
    try:
        return base64.b64decode(value, altchars=alphabet.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise EventDecodeError(f"`{name}` is not valid base64") from None


def _json_object(body: bytes) -> Mapping[str, Any]:
    parsed = _json_any(body)
    if not isinstance(parsed, Mapping):
        raise EventDecodeError("event body must be a JSON object")
    return parsed


def _json_any(body: bytes) -> Any:
    # orjson refuses, as it should at the edge, nesting deeper than 1,024 levels, lone
    # surrogates and numbers that overflow a double (json would recurse into RecursionError).
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise EventDecodeError(f"event body is not valid JSON ({exc})") from None
