"""Topics and subscriptions: create, read, update, delete, list, publish, dead-letter.

The :class:`Registry` owns the resource maps and fans published messages out to each attached
subscription's :class:`SubscriptionQueue` (messages a subscription's filter rejects are simply
not enqueued: the real service auto-acknowledges them). It persists every change through the
store and starts or stops a push worker when a subscription gains or loses a push endpoint.

Resource protos are never mutated once published in a :class:`Sub` or :class:`Topic`: an
update builds a new proto and swaps the reference, so readers (pushers, RPCs) need no lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from local.pubsub import filters, names, protos, validate
from local.pubsub.errors import already_exists, invalid, not_found
from local.pubsub.queue import Policy, SubscriptionQueue

log = logging.getLogger("local.pubsub.registry")

MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEY_BYTES = 256
MAX_ATTRIBUTE_VALUE_BYTES = 1024
MAX_ORDERING_KEY_BYTES = 1024


class Topic:
    def __init__(self, pb) -> None:
        self.pb = pb
        self.subs: set[str] = set()  # guarded by Registry._lock
        # Held while ids are assigned and messages enqueued, so every subscription of this
        # topic sees its messages in id order (what ordering keys rely on).
        self.publish_lock = threading.Lock()


class Sub:
    def __init__(self, pb, queue: SubscriptionQueue) -> None:
        self.pb = pb
        self.queue = queue
        self.matches = filters.parse(pb.filter)
        self.pusher = None  # a started Pusher while pb.push_config.push_endpoint is set


PusherFactory = Callable[[Sub], object]


class Registry:
    def __init__(
        self,
        store,
        timer,
        push_retry: tuple[float, float],
        pusher_factory: PusherFactory | None = None,
    ) -> None:
        self._store = store
        self._timer = timer
        self._push_retry = push_retry
        self._pusher_factory = pusher_factory
        # _lock protects _topics, _subs, every Topic.subs set and _next_id.
        self._lock = threading.Lock()
        self._topics: dict[str, Topic] = {}
        self._subs: dict[str, Sub] = {}
        self._next_id = 1
        self.durable: bool = store.durable

    # -- lifecycle ------------------------------------------------------------------------------

    def load(self, snapshot) -> None:
        """Rebuilds the state a store found on disk (topics, subscriptions, waiting messages)."""
        self._next_id = snapshot.next_id
        for name, blob in snapshot.topics:
            self._topics[name] = Topic(protos.Topic.FromString(blob))
        for name, blob in snapshot.subscriptions:
            pb = protos.Subscription.FromString(blob)
            sub = self._new_sub(pb)
            self._subs[name] = sub
            if pb.topic in self._topics:
                self._topics[pb.topic].subs.add(name)
            by_attempts: dict[int, list] = {}
            for seq, msg_blob, attempts in snapshot.messages.get(name, []):
                msg = protos.PubsubMessage.FromString(msg_blob)
                item = (seq, msg, len(msg_blob), msg.ordering_key)
                by_attempts.setdefault(attempts, []).append(item)
            for attempts, items in by_attempts.items():
                sub.queue.add(items, attempts=attempts)
        count = sum(len(v) for v in snapshot.messages.values())
        if snapshot.topics or snapshot.subscriptions:
            log.info(
                "restored %d topics, %d subscriptions, %d waiting messages",
                len(snapshot.topics),
                len(snapshot.subscriptions),
                count,
            )
        for sub in self._subs.values():
            self._sync_pusher(sub)

    def stop(self) -> None:
        with self._lock:
            subs = list(self._subs.values())
        for sub in subs:
            if sub.pusher is not None:
                sub.pusher.stop()
            sub.queue.wake()

    # -- topics ---------------------------------------------------------------------------------

    def create_topic(self, pb):
        validate.check_topic(pb)
        with self._lock:
            if pb.name in self._topics:
                raise already_exists(names.short(pb.name))
            self._topics[pb.name] = Topic(pb)
            self._store.put_topic(pb.name, pb.SerializeToString())
        self._store.sync()
        return pb

    def topic(self, name: str) -> Topic:
        names.parse_topic(name)
        with self._lock:
            topic = self._topics.get(name)
        if topic is None:
            raise not_found(names.short(name))
        return topic

    def update_topic(self, update, mask):
        topic = self.topic(update.name)
        merged = validate.apply_mask(
            topic.pb, update, mask, validate.TOPIC_UPDATABLE, {"name"}, "Topic"
        )
        validate.check_topic(merged)
        topic.pb = merged
        self._store.put_topic(merged.name, merged.SerializeToString())
        self._store.sync()
        return merged

    def delete_topic(self, name: str) -> None:
        self.topic(name)
        with self._lock:
            topic = self._topics.pop(name, None)
            if topic is None:
                raise not_found(names.short(name))
            self._store.delete_topic(name)
            for sub_name in topic.subs:
                sub = self._subs[sub_name]
                pb = protos.Subscription()
                pb.CopyFrom(sub.pb)
                pb.topic = names.DELETED_TOPIC
                sub.pb = pb
                self._store.put_subscription(sub_name, pb.SerializeToString())
        self._store.sync()

    def list_topics(self, project: str) -> list:
        prefix = f"projects/{names.parse_project(project)}/topics/"
        with self._lock:
            return [t.pb for n, t in sorted(self._topics.items()) if n.startswith(prefix)]

    def topic_subscriptions(self, name: str) -> list[str]:
        topic = self.topic(name)
        with self._lock:
            return sorted(topic.subs)

    # -- subscriptions --------------------------------------------------------------------------

    def _policy(self, pb) -> Policy:
        backoff = None
        if pb.HasField("retry_policy"):
            backoff = (
                validate.seconds(pb.retry_policy.minimum_backoff),
                validate.seconds(pb.retry_policy.maximum_backoff),
            )
        elif pb.push_config.push_endpoint:
            backoff = self._push_retry
        dead_letter = pb.dead_letter_policy
        attempts = dead_letter.max_delivery_attempts if dead_letter.dead_letter_topic else None
        return Policy(
            name=pb.name,
            ack_deadline=float(pb.ack_deadline_seconds),
            ordering=pb.enable_message_ordering,
            backoff=backoff,
            max_attempts=attempts or None,
        )

    def _new_sub(self, pb) -> Sub:
        return Sub(
            pb, SubscriptionQueue(self._policy(pb), self._timer, self._store, self._dead_letter)
        )

    def create_subscription(self, pb):
        validate.check_subscription(pb)
        with self._lock:
            if pb.name in self._subs:
                raise already_exists(names.short(pb.name))
            topic = self._topics.get(pb.topic)
            if topic is None:
                raise not_found(names.short(pb.topic))
            sub = self._new_sub(pb)
            self._subs[pb.name] = sub
            topic.subs.add(pb.name)
            self._store.put_subscription(pb.name, pb.SerializeToString())
        self._store.sync()
        self._sync_pusher(sub)
        return pb

    def sub(self, name: str) -> Sub:
        names.parse_subscription(name)
        with self._lock:
            sub = self._subs.get(name)
        if sub is None:
            raise not_found(names.short(name))
        return sub

    def update_subscription(self, update, mask):
        sub = self.sub(update.name)
        merged = validate.apply_mask(
            sub.pb,
            update,
            mask,
            validate.SUBSCRIPTION_UPDATABLE,
            validate.SUBSCRIPTION_IMMUTABLE,
            "Subscription",
        )
        validate.check_subscription(merged)
        self._replace(sub, merged)
        return merged

    def modify_push_config(self, name: str, push_config) -> None:
        sub = self.sub(name)
        merged = protos.Subscription()
        merged.CopyFrom(sub.pb)
        merged.push_config.CopyFrom(push_config)
        validate.check_subscription(merged)
        self._replace(sub, merged)

    def _replace(self, sub: Sub, pb) -> None:
        sub.pb = pb
        sub.queue.configure(self._policy(pb))
        self._store.put_subscription(pb.name, pb.SerializeToString())
        self._store.sync()
        self._sync_pusher(sub)

    def _sync_pusher(self, sub: Sub) -> None:
        """Starts or stops the subscription's push worker to match its push endpoint."""
        wants = bool(sub.pb.push_config.push_endpoint) and not sub.queue.closed
        if wants and sub.pusher is None and self._pusher_factory is not None:
            sub.pusher = self._pusher_factory(sub)
            sub.pusher.start()
        elif not wants and sub.pusher is not None:
            pusher, sub.pusher = sub.pusher, None
            pusher.stop()

    def delete_subscription(self, name: str) -> None:
        self.sub(name)
        with self._lock:
            sub = self._subs.pop(name, None)
            if sub is None:
                raise not_found(names.short(name))
            topic = self._topics.get(sub.pb.topic)
            if topic is not None:
                topic.subs.discard(name)
            self._store.delete_subscription(name)
        sub.queue.close()
        self._sync_pusher(sub)
        self._store.sync()

    def detach_subscription(self, name: str) -> None:
        """Detaches: the subscription stops receiving and its backlog is dropped."""
        sub = self.sub(name)
        with self._lock:
            topic = self._topics.get(sub.pb.topic)
            if topic is not None:
                topic.subs.discard(name)
        pb = protos.Subscription()
        pb.CopyFrom(sub.pb)
        pb.detached = True
        sub.queue.close()
        self._store.clear_messages(name)
        self._replace(sub, pb)

    def stats(self) -> dict[str, dict[str, int | str]]:
        """Per subscription: its topic and backlog (messages not yet acknowledged)."""
        with self._lock:
            subs = list(self._subs.items())
        return {
            name: {"topic": sub.pb.topic, "backlog": sub.queue.backlog()}
            for name, sub in sorted(subs)
        }

    def list_subscriptions(self, project: str) -> list:
        prefix = f"projects/{names.parse_project(project)}/subscriptions/"
        with self._lock:
            return [s.pb for n, s in sorted(self._subs.items()) if n.startswith(prefix)]

    # -- messages -------------------------------------------------------------------------------

    def publish(self, topic_name: str, messages: list, check: bool = True) -> list[str]:
        """Stamps ids and publish times, enqueues to every matching subscription, persists."""
        topic = self.topic(topic_name)
        if not messages:
            raise invalid("The request contains no messages.")
        if check:
            _check_messages(messages)
        now = time.time_ns()
        secs, nanos = divmod(now, 1_000_000_000)
        nanos -= nanos % 1000  # the real service reports microseconds at most
        with topic.publish_lock:
            with self._lock:
                subs = [self._subs[n] for n in topic.subs]
                first = self._next_id
                self._next_id += len(messages)
                next_id = self._next_id
            stamped = []
            for seq, msg in enumerate(messages, first):
                msg.message_id = str(seq)
                msg.publish_time.seconds = secs
                msg.publish_time.nanos = nanos
                blob = msg.SerializeToString() if self.durable else b""
                stamped.append((seq, msg, msg.ByteSize(), blob))
            rows = []
            for sub in subs:
                items = [
                    (seq, m, size, m.ordering_key)
                    for seq, m, size, _ in stamped
                    if sub.matches(m.attributes)
                ]
                if items:
                    sub.queue.add(items)
                    if self.durable:
                        blobs = {seq: blob for seq, _, _, blob in stamped}
                        rows.extend((sub.pb.name, seq, blobs[seq]) for seq, _, _, _ in items)
            self._store.add_messages(rows, next_id)
        self._store.sync()
        return [str(seq) for seq, _, _, _ in stamped]

    def _dead_letter(self, policy: Policy, entries: list) -> None:
        """Forwards messages that ran out of delivery attempts to the dead-letter topic."""
        try:
            sub = self.sub(policy.name)
        except Exception:
            return
        dlt = sub.pb.dead_letter_policy.dead_letter_topic
        project, sub_id = names.parse_subscription(policy.name)
        out = []
        for entry in entries:
            msg = protos.PubsubMessage()
            msg.data = entry.msg.data
            msg.attributes.update(entry.msg.attributes)
            msg.ordering_key = entry.msg.ordering_key
            published = entry.msg.publish_time.ToDatetime(tzinfo=UTC)
            msg.attributes.update(
                {
                    "CloudPubSubDeadLetterSourceDeliveryCount": str(entry.attempts),
                    "CloudPubSubDeadLetterSourceSubscription": sub_id,
                    "CloudPubSubDeadLetterSourceSubscriptionProject": project,
                    "CloudPubSubDeadLetterSourceTopicPublishTime": _dlq_time(published),
                }
            )
            out.append(msg)
        try:
            self.publish(dlt, out, check=False)
        except Exception as exc:
            log.warning(
                "dead-lettering %d messages of %s to %s failed (%s); they are dropped",
                len(out),
                policy.name,
                dlt,
                exc,
            )


def _dlq_time(when: datetime) -> str:
    """The format seen in real dead-lettered messages: 2022-08-12T15:56:29.732+00:00."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+00:00"


def _check_messages(messages: list) -> None:
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
