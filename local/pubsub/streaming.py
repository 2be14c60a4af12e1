"""One StreamingPull stream: leased messages out, acks and deadline changes in.

The first request names the subscription, the stream's ack deadline (10-600 s) and the
client's flow control (``max_outstanding_messages`` / ``_bytes``, 0 = unlimited), which the
stream honours through a :class:`Holder`: it never has more unacknowledged messages out than
the client allows. A reader thread applies the acks, modacks and deadline changes of later
requests (the Python client sends most acks as unary Acknowledge calls instead). When the
stream ends, its leases are kept until their deadlines pass, as the real service does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from local.pubsub import api, protos
from local.pubsub.errors import ApiError, invalid
from local.pubsub.queue import Holder
from local.pubsub.registry import ResourceRegistry

log = logging.getLogger("local.pubsub.streaming")

# Messages per StreamingPullResponse at most; the client's default flow control is 1000.
MAX_BATCH = 1000
# How often a waiting stream looks at whether it is still open, in seconds.
POLL = 1.0


class StreamingPullSession:
    def __init__(
        self, registry: ResourceRegistry, requests: Iterator, context, authorize=None
    ) -> None:
        self._registry = registry
        self._authorize = authorize  # callback(first request): the IAM check, may raise
        self._requests = requests
        self._context = context
        self._closed = threading.Event()
        self._deadline = 10  # stream ack deadline, replaced by the client's
        self._sub = None

    def responses(self) -> Iterator:
        first = next(self._requests, None)
        if first is None:
            return
        if not first.subscription:
            raise invalid("The first StreamingPullRequest must name a subscription.")
        if self._authorize is not None:
            self._authorize(first)
        sub = self._sub = self._registry.sub(first.subscription)
        self._set_deadline(first.stream_ack_deadline_seconds)
        holder = Holder(max(0, first.max_outstanding_messages), max(0, first.max_outstanding_bytes))
        self._apply(first)
        self._context.add_callback(self._close)
        reader = threading.Thread(target=self._read, name="pubsub-stream-reader", daemon=True)
        reader.start()
        props = protos.StreamingPullResponse.SubscriptionProperties(
            message_ordering_enabled=sub.pb.enable_message_ordering,
            exactly_once_delivery_enabled=sub.pb.enable_exactly_once_delivery,
        )
        try:
            while not self._closed.is_set():
                got = sub.queue.pull(
                    MAX_BATCH,
                    deadline=self._deadline,
                    holder=holder,
                    timeout=POLL,
                    active=self._is_open,
                )
                if sub.queue.closed:
                    raise ApiError(
                        "NOT_FOUND",
                        f"Subscription does not exist (resource={sub.pb.name.rsplit('/', 1)[-1]}).",
                    )
                if not got:
                    continue
                response = protos.StreamingPullResponse(subscription_properties=props)
                for ack_id, msg, attempt in got:
                    received = response.received_messages.add(
                        ack_id=ack_id, delivery_attempt=attempt
                    )
                    received.message.CopyFrom(msg)
                yield response
        finally:
            self._close()

    def _is_open(self) -> bool:
        return not self._closed.is_set()

    def _close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            if self._sub is not None:
                self._sub.queue.wake()

    def _set_deadline(self, seconds: int) -> None:
        if not 10 <= seconds <= 600:
            raise invalid(
                f"Invalid stream_ack_deadline_seconds: {seconds}; it must be between "
                "10 and 600 seconds."
            )
        self._deadline = seconds

    def _apply(self, request) -> None:
        queue = self._sub.queue
        if request.ack_ids:
            ack_ids = list(request.ack_ids)
            api.check_ack_ids(ack_ids)
            queue.ack(ack_ids)
        if request.modify_deadline_ack_ids:
            ack_ids = list(request.modify_deadline_ack_ids)
            seconds = list(request.modify_deadline_seconds)
            if len(seconds) != len(ack_ids):
                raise invalid(
                    "modify_deadline_seconds and modify_deadline_ack_ids must have the same length."
                )
            api.check_ack_ids(ack_ids)
            for ack_id, secs in zip(ack_ids, seconds, strict=True):
                api.check_deadline(secs)
                queue.modify([ack_id], secs)
        if request.stream_ack_deadline_seconds:
            self._set_deadline(request.stream_ack_deadline_seconds)

    def _read(self) -> None:
        """Applies the client's later requests until the stream ends."""
        try:
            for request in self._requests:
                try:
                    self._apply(request)
                except ApiError as exc:
                    log.info("ignored part of a StreamingPullRequest: %s", exc.message)
        except Exception as exc:  # the RPC ended or was cancelled
            log.debug("stream reader ended: %r", exc)
        finally:
            self._close()
