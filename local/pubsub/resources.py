"""The registry's records of a topic and a subscription, and what follows from their protos.

A :class:`Topic` or :class:`Sub` holds its google.pubsub.v1 proto (``pb``), never mutated once
published here: an update builds a new proto and swaps the reference, so readers need no lock.
"""

from __future__ import annotations

import threading

from local.pubsub import filters, validate
from local.pubsub.queue import Policy, SubscriptionQueue


class Topic:
    def __init__(self, pb) -> None:
        self.pb = pb
        self.subs: set[str] = set()  # guarded by ResourceRegistry._lock
        # Held while ids are assigned and messages enqueued, so every subscription of this
        # topic sees its messages in id order (what ordering keys rely on). Also guards
        # ``snapshots`` (names of the snapshots recording this topic) and ``log``.
        self.publish_lock = threading.Lock()
        self.snapshots: set[str] = set()
        # seq -> message, in publish order, while the topic has message_retention_duration
        self.log: dict[int, object] = {}

    @property
    def retention(self) -> float | None:
        if not self.pb.HasField("message_retention_duration"):
            return None
        return validate.seconds(self.pb.message_retention_duration)


class Sub:
    def __init__(self, pb, queue: SubscriptionQueue) -> None:
        self.pb = pb
        self.queue = queue
        self.matches = filters.parse(pb.filter)
        self.pusher = None  # a started Pusher while pb.push_config.push_endpoint is set


def queue_policy(pb) -> Policy:
    """The parts of a Subscription its queue acts on."""
    # Without a retry policy a failed message is ready again at once; a push subscription
    # then pauses as a whole instead (the push backoff of its Pusher's window).
    backoff = None
    if pb.HasField("retry_policy"):
        backoff = (
            validate.seconds(pb.retry_policy.minimum_backoff),
            validate.seconds(pb.retry_policy.maximum_backoff),
        )
    dead_letter = pb.dead_letter_policy
    attempts = dead_letter.max_delivery_attempts if dead_letter.dead_letter_topic else None
    return Policy(
        name=pb.name,
        ack_deadline=float(pb.ack_deadline_seconds),
        ordering=pb.enable_message_ordering,
        backoff=backoff,
        max_attempts=attempts or None,
        retain_acked=pb.retain_acked_messages,
        retention=validate.seconds(pb.message_retention_duration) or validate.DEFAULT_RETENTION,
    )


def copy_topic_retention(topic, sub) -> None:
    """Subscription.topic_message_retention_duration is the topic's, output only."""
    if topic.HasField("message_retention_duration"):
        sub.topic_message_retention_duration.CopyFrom(topic.message_retention_duration)
    else:
        sub.ClearField("topic_message_retention_duration")
