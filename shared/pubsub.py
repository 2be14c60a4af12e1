"""Publishing through google-cloud-pubsub (which honours `PUBSUB_EMULATOR_HOST` by itself).

The client is created on first publish, not at import, so a cold start does no gRPC work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from shared.errors import ApiError, Code, from_google_exception

if TYPE_CHECKING:
    from google.cloud import pubsub_v1

log = logging.getLogger("shared.pubsub")

# How long a workflow waits for the publish to be acknowledged before it reports the step as
# failed (the caller answers non-2xx and Pub/Sub redelivers).
PUBLISH_TIMEOUT_S = 30.0


class Publisher(Protocol):
    def publish(
        self,
        topic: str,
        data: bytes,
        attributes: Mapping[str, str] | None = None,
        ordering_key: str = "",
    ) -> str: ...


class PubSubPublisher:
    """Publishes to full topic names (`projects/P/topics/T`) and waits for the message id."""

    def __init__(self) -> None:
        self._client: pubsub_v1.PublisherClient | None = None
        # Protects the lazy creation of `_client` against two first requests at once.
        self._lock = threading.Lock()

    def _get_client(self) -> pubsub_v1.PublisherClient:
        with self._lock:
            if self._client is None:
                from google.cloud import pubsub_v1

                self._client = pubsub_v1.PublisherClient(
                    publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
                )
            return self._client

    def publish(
        self,
        topic: str,
        data: bytes,
        attributes: Mapping[str, str] | None = None,
        ordering_key: str = "",
    ) -> str:
        client = self._get_client()
        try:
            future = client.publish(
                topic, data, ordering_key=ordering_key, **dict(attributes or {})
            )
            message_id = future.result(timeout=PUBLISH_TIMEOUT_S)
        except Exception as exc:
            if ordering_key:
                # An ordering key stays paused after a failure until resumed.
                client.resume_publish(topic, ordering_key)
            error = from_google_exception(exc)
            if error.code == Code.UNKNOWN:
                error = ApiError(Code.UNAVAILABLE, f"publish to {topic} failed: {exc}")
            raise error from exc
        log.debug("published", extra={"json_fields": {"topic": topic, "messageId": message_id}})
        return message_id
