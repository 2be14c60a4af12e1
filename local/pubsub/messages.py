"""Messages as the publisher hands them in and as a dead-letter topic receives them, pure.

Limits are the real service's (cloud.google.com/pubsub/quotas): at most 100 attributes, keys
of 1-256 bytes not starting with ``goog`` (reserved: the service's own schema attributes use
it), values up to 1024 bytes, ordering keys up to 1024 bytes; a message needs data or at least
one attribute.
"""

from __future__ import annotations

from datetime import UTC, datetime

from local.pubsub import names, protos
from local.pubsub.errors import invalid

MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEY_BYTES = 256
MAX_ATTRIBUTE_VALUE_BYTES = 1024
MAX_ORDERING_KEY_BYTES = 1024


def check(messages: list) -> None:
    """Raises INVALID_ARGUMENT for the first message the real service would refuse."""
    for msg in messages:
        if not msg.data and not msg.attributes:
            raise invalid(
                "Some messages in the publish request are empty: each message must "
                "contain either non-empty data, or at least one attribute."
            )
        if len(msg.attributes) > MAX_ATTRIBUTES:
            raise invalid(f"A message has more than {MAX_ATTRIBUTES} attributes.")
        for key, value in msg.attributes.items():
            if not key or len(key.encode()) > MAX_ATTRIBUTE_KEY_BYTES:
                raise invalid(f"Invalid attribute key {key!r}: 1 to 256 bytes.")
            if key.startswith("goog"):
                raise invalid(f"Invalid attribute key {key!r}: 'goog' keys are reserved.")
            if len(value.encode()) > MAX_ATTRIBUTE_VALUE_BYTES:
                raise invalid(f"The value of attribute {key!r} is longer than 1024 bytes.")
        if len(msg.ordering_key.encode()) > MAX_ORDERING_KEY_BYTES:
            raise invalid("An ordering key is longer than 1024 bytes.")


def dead_letter_copy(msg, attempts: int, subscription: str):
    """The message as its dead-letter topic receives it, with the service's attributes."""
    project, sub_id = names.parse_subscription(subscription)
    out = protos.PubsubMessage()
    out.data = msg.data
    out.attributes.update(msg.attributes)
    out.ordering_key = msg.ordering_key
    published = msg.publish_time.ToDatetime(tzinfo=UTC)
    out.attributes.update(
        {
            "CloudPubSubDeadLetterSourceDeliveryCount": str(attempts),
            "CloudPubSubDeadLetterSourceSubscription": sub_id,
            "CloudPubSubDeadLetterSourceSubscriptionProject": project,
            "CloudPubSubDeadLetterSourceTopicPublishTime": _dlq_time(published),
        }
    )
    return out


def _dlq_time(when: datetime) -> str:
    """The format seen in real dead-lettered messages: 2022-08-12T15:56:29.732+00:00."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+00:00"
