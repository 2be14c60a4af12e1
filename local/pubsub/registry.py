"""Topics and subscriptions: create, read, update, delete, list, publish, dead-letter.

The :class:`ResourceRegistry` owns the resource maps and fans published messages out to each
attached subscription's :class:`SubscriptionQueue` (messages its filter rejects are simply
not enqueued: the real service auto-acknowledges them), to the snapshots recording the topic
and to the topic's own retained log. A topic with a schema has its messages checked and
stamped by the SchemaBook before they get ids. It persists every change through the
store and starts or stops a push worker when a subscription gains or loses a push endpoint.

Resource protos are never mutated once published in a :class:`Sub` or :class:`Topic`: an
update builds a new proto and swaps the reference, so readers (pushers, RPCs) need no lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from local.pubsub import messages as messages_mod
from local.pubsub import names, protos, validate
from local.pubsub.errors import already_exists, invalid, not_found, unimplemented
from local.pubsub.queue import Policy, SubscriptionQueue
from local.pubsub.resources import Sub, Topic, copy_topic_retention, queue_policy

log = logging.getLogger("local.pubsub.registry")


PusherFactory = Callable[[Sub], object]


class ResourceRegistry:
    def __init__(
        self,
        store,
        timer,
        pusher_factory: PusherFactory | None = None,
        schemas=None,
    ) -> None:
        self._store = store
        self._timer = timer
        self._pusher_factory = pusher_factory
        self.schemas = schemas  # a SchemaBook that checks messages of topics with a schema
        self.snapshots = None  # the SnapshotBook, set by the emulator
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
            acked = []
            for seq, msg_blob, attempts, was_acked in snapshot.messages.get(name, []):
                msg = protos.PubsubMessage.FromString(msg_blob)
                item = (seq, msg, len(msg_blob), msg.ordering_key)
                if was_acked:
                    acked.append(item)
                else:
                    by_attempts.setdefault(attempts, []).append(item)
            if acked:
                sub.queue.reset([], acked)
            for attempts, items in by_attempts.items():
                sub.queue.add(items, attempts=attempts)
        for name, topic in self._topics.items():
            for seq, msg_blob in snapshot.kept.get(name, []):
                topic.log[seq] = protos.PubsubMessage.FromString(msg_blob)
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

    def sync(self) -> None:
        """Returns once every change so far is on disk (a no-op in memory)."""
        self._store.sync()

    def stop(self) -> None:
        with self._lock:
            subs = list(self._subs.values())
        for sub in subs:
            if sub.pusher is not None:
                sub.pusher.stop()
            sub.queue.wake()

    # -- topics ---------------------------------------------------------------------------------

    def _check_schema(self, pb) -> None:
        if pb.HasField("schema_settings"):
            if self.schemas is None:
                raise unimplemented("Schemas")
            self.schemas.check_settings(pb.schema_settings)

    def create_topic(self, pb):
        validate.check_topic(pb)
        self._check_schema(pb)
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
        self._check_schema(merged)
        with topic.publish_lock:
            topic.pb = merged
            if topic.retention is None:
                topic.log.clear()
        self._store.put_topic(merged.name, merged.SerializeToString())
        if topic.retention is None:
            self._store.clear_kept(merged.name)
        with self._lock:
            subs = [self._subs[n] for n in topic.subs]
        for sub in subs:  # their topic_message_retention_duration follows the topic's
            pb = protos.Subscription()
            pb.CopyFrom(sub.pb)
            copy_topic_retention(merged, pb)
            self._replace(sub, pb)
        self._store.sync()
        return merged

    def schema_deleted(self, schema: str) -> None:
        """Topics of a deleted schema point at ``_deleted-schema_`` (and refuse messages)."""
        with self._lock:
            topics = [t for t in self._topics.values() if t.pb.schema_settings.schema == schema]
        for topic in topics:
            pb = protos.Topic()
            pb.CopyFrom(topic.pb)
            pb.schema_settings.schema = "_deleted-schema_"
            topic.pb = pb
            self._store.put_topic(pb.name, pb.SerializeToString())
        self._store.sync()

    def delete_topic(self, name: str) -> None:
        self.topic(name)
        with self._lock:
            topic = self._topics.pop(name, None)
            if topic is None:
                raise not_found(names.short(name))
            self._store.delete_topic(name)
            self._store.clear_kept(name)
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

    def _new_sub(self, pb) -> Sub:
        return Sub(
            pb, SubscriptionQueue(queue_policy(pb), self._timer, self._store, self._dead_letter)
        )

    def create_subscription(self, pb):
        validate.check_subscription(pb)
        with self._lock:
            if pb.name in self._subs:
                raise already_exists(names.short(pb.name))
            topic = self._topics.get(pb.topic)
            if topic is None:
                raise not_found(names.short(pb.topic))
            copy_topic_retention(topic.pb, pb)
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
        sub.queue.configure(queue_policy(pb))
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

    def all_subscriptions(self) -> list[Sub]:
        with self._lock:
            return list(self._subs.values())

    def all_topics(self) -> list[Topic]:
        with self._lock:
            return list(self._topics.values())

    def list_subscriptions(self, project: str) -> list:
        prefix = f"projects/{names.parse_project(project)}/subscriptions/"
        with self._lock:
            return [s.pb for n, s in sorted(self._subs.items()) if n.startswith(prefix)]

    # -- messages -------------------------------------------------------------------------------

    def publish(self, topic_name: str, messages: list, check: bool = True) -> list[str]:
        """Stamps ids and publish times, enqueues to every matching subscription, persists.

        A client's messages (``check``) are checked against the limits and, when the topic has
        a schema, validated against it and given the schema attributes; dead letters are not.
        """
        topic = self.topic(topic_name)
        if not messages:
            raise invalid("The request contains no messages.")
        if check:
            messages_mod.check(messages)
            if topic.pb.HasField("schema_settings") and self.schemas is not None:
                self.schemas.stamp(topic.pb.schema_settings, messages)
        now = time.time_ns()
        secs, nanos = divmod(now, 1_000_000_000)
        nanos -= nanos % 1000  # the real service reports microseconds at most
        with topic.publish_lock:
            snapshots = list(topic.snapshots)
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
            kept = []
            owners = snapshots + ([topic.pb.name] if topic.retention is not None else [])
            if topic.retention is not None:
                topic.log.update((seq, m) for seq, m, _, _ in stamped)
            if snapshots and self.snapshots is not None:
                self.snapshots.record(snapshots, [(seq, m) for seq, m, _, _ in stamped])
            if self.durable:
                kept = [(owner, seq, blob) for owner in owners for seq, _, _, blob in stamped]
            self._store.add_messages(rows, next_id)
            if kept:
                self._store.add_kept(kept)
        self._store.sync()
        return [str(seq) for seq, _, _, _ in stamped]

    def _dead_letter(self, policy: Policy, entries: list) -> None:
        """Forwards messages that ran out of delivery attempts to the dead-letter topic."""
        try:
            sub = self.sub(policy.name)
        except Exception:
            return
        dlt = sub.pb.dead_letter_policy.dead_letter_topic
        out = [messages_mod.dead_letter_copy(e.msg, e.attempts, policy.name) for e in entries]
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
