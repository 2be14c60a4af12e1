"""What a push request looks like, pure: body and headers for one message.

Wrapped (the default), as the real service sends it::

    {"message": {"attributes": {...}, "data": "<base64>", "messageId": "1", "message_id": "1",
                 "orderingKey": "k", "publishTime": "...Z", "publish_time": "...Z"},
     "subscription": "projects/p/subscriptions/s", "deliveryAttempt": 1}

``data``, ``attributes`` and ``orderingKey`` appear only when set (protobuf JSON leaves empty
fields out); ``deliveryAttempt`` only when the subscription has a dead-letter policy.

Unwrapped (``push_config.no_wrapper``): the body is the raw data. With ``write_metadata`` the
metadata travels as ``x-goog-pubsub-subscription-name``, ``x-goog-pubsub-message-id``,
``x-goog-pubsub-publish-time`` (and ``x-goog-pubsub-ordering-key`` when set), the attributes
as headers of their own name. Approximation: attributes whose name or value cannot be an
HTTP/1.1 header, or that would change the request's framing or authorization
(``Content-Length``, ``Transfer-Encoding``, ``Host``, ``Connection``, ``Authorization``), are
left out.
"""

from __future__ import annotations

import base64
import json
import re

SUCCESS = frozenset({102, 200, 201, 202, 204})
USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_RESERVED = {
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "authorization",
    "te",
    "trailer",
    "upgrade",
    "keep-alive",
    "expect",
}


def wrapped_body(msg, subscription: str, delivery_attempt: int = 0) -> bytes:
    message: dict = {}
    if msg.attributes:
        message["attributes"] = dict(msg.attributes)
    if msg.data:
        message["data"] = base64.b64encode(msg.data).decode("ascii")
    message["messageId"] = message["message_id"] = msg.message_id
    if msg.ordering_key:
        message["orderingKey"] = msg.ordering_key
    published = msg.publish_time.ToJsonString()
    message["publishTime"] = message["publish_time"] = published
    envelope: dict = {"message": message, "subscription": subscription}
    if delivery_attempt:
        envelope["deliveryAttempt"] = delivery_attempt
    return json.dumps(envelope, separators=(",", ":")).encode()


def unwrapped_headers(msg, subscription: str) -> dict[str, str]:
    headers = {
        "x-goog-pubsub-subscription-name": subscription,
        "x-goog-pubsub-message-id": msg.message_id,
        "x-goog-pubsub-publish-time": msg.publish_time.ToJsonString(),
    }
    if msg.ordering_key:
        headers["x-goog-pubsub-ordering-key"] = msg.ordering_key
    for key, value in msg.attributes.items():
        if (
            _TOKEN.fullmatch(key)
            and key.lower() not in _RESERVED
            and "\r" not in value
            and "\n" not in value
        ):
            headers[key] = value
    return headers


def build(push_config, msg, subscription: str, delivery_attempt: int) -> tuple[bytes, dict]:
    """(body, headers) of the push request for ``msg``, without Authorization."""
    headers = {"User-Agent": USER_AGENT, "From": "noreply@google.com"}
    if push_config.HasField("no_wrapper"):
        if push_config.no_wrapper.write_metadata:
            headers.update(unwrapped_headers(msg, subscription))
        return bytes(msg.data), headers
    headers["Content-Type"] = "application/json"
    return wrapped_body(msg, subscription, delivery_attempt), headers
