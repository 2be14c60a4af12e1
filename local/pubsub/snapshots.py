"""Snapshots and Seek: a subscription's acknowledgement state captured, and set back.

As ``google/pubsub/v1/pubsub.proto`` documents them:

* CreateSnapshot captures the messages unacknowledged in the subscription at that moment and
  then keeps every message published to the topic afterwards (the snapshot *records* them).
  It expires ``7 days - (age of the oldest unacknowledged message)`` after its creation; when
  that is less than an hour away, creation fails with FAILED_PRECONDITION. An empty name asks
  the server for one (gRPC only: REST names the snapshot in the path).
* Seek to a snapshot (of the subscription's own topic) makes exactly the snapshot's messages
  unacknowledged; what else the subscription retained stays acknowledged (or is dropped when
  it does not retain acknowledged messages).
* Seek to a time marks every message retained for the subscription published before the time
  as acknowledged and every one published at or after it as unacknowledged. Retained means:
  waiting in the subscription, acknowledged but kept (``retain_acked_messages``, within the
  subscription's ``message_retention_duration``), or kept by the topic's own
  ``message_retention_duration`` (which also offers messages published before the
  subscription existed). Messages already expunged do not come back.

The subscription's filter applies to what a Seek brings back. Outstanding leases end: their ack
ids stop working (an exactly-once subscriber sees them fail), as after the real Seek.
"""

from __future__ import annotations

import os
import threading
import time

from local.pubsub import names, protos, validate
from local.pubsub.errors import ApiError, already_exists, failed_precondition, invalid, not_found

# The longest a snapshot lives, and the least it may (pubsub.proto, Snapshot.expire_time).
MAX_LIFETIME = 7 * 86400.0
MIN_LIFETIME = 3600.0
SNAPSHOT_UPDATABLE = {"labels", "expire_time"}


class Snap:
    def __init__(self, pb) -> None:
        self.pb = pb  # google.pubsub.v1.Snapshot, swapped whole on update
        self.messages: dict[int, object] = {}  # seq -> PubsubMessage, in seq order


class SnapshotBook:
    def __init__(self, registry, store) -> None:
        self._registry = registry
        self._store = store
        # _lock protects _snaps and every Snap.messages.
        self._lock = threading.Lock()
        self._snaps: dict[str, Snap] = {}

    def load(self, snapshot) -> None:
        """Rebuilds the snapshots a store found on disk, with the messages they keep."""
        for name, blob in snapshot.resources.get("snapshot", []):
            snap = Snap(protos.Snapshot.FromString(blob))
            for seq, msg_blob in snapshot.kept.get(name, []):
                snap.messages[seq] = protos.PubsubMessage.FromString(msg_blob)
            self._snaps[name] = snap
            self._attach(snap.pb.topic, name, True)

    def _attach(self, topic_name: str, name: str, attach: bool) -> None:
        """Makes the topic's publishes record into (or stop recording into) the snapshot."""
        try:
            topic = self._registry.topic(topic_name)
        except ApiError:
            return  # the topic is gone: nothing more to record
        with topic.publish_lock:
            (topic.snapshots.add if attach else topic.snapshots.discard)(name)

    # -- resources ------------------------------------------------------------------------------

    def create(self, request):
        sub = self._registry.sub(request.subscription)
        name = request.name or self._server_name(request.subscription)
        names.parse_snapshot(name)
        topic = self._registry.topic(sub.pb.topic)
        now = time.time()
        with topic.publish_lock:  # no message slips between the capture and the recording
            with self._lock:
                if name in self._snaps:
                    raise already_exists(names.short(name))
            unacked = sub.queue.unacked()
            oldest = min((_published(m) for _, m, _, _ in unacked), default=now)
            lifetime = MAX_LIFETIME - max(0.0, now - oldest)
            if lifetime < MIN_LIFETIME:
                raise failed_precondition(
                    "The subscription's backlog is too old: the snapshot would expire in less "
                    "than 1 hour."
                )
            pb = protos.Snapshot(name=name, topic=sub.pb.topic, labels=dict(request.labels))
            pb.expire_time.FromNanoseconds(int((now + lifetime) * 1e9))
            snap = Snap(pb)
            snap.messages = {seq: msg for seq, msg, _, _ in unacked}
            with self._lock:
                self._snaps[name] = snap
            topic.snapshots.add(name)
        self._store.put_resource("snapshot", name, pb.SerializeToString())
        if self._registry.durable:
            self._store.add_kept(
                [(name, s, m.SerializeToString()) for s, m in snap.messages.items()]
            )
        self._store.sync()
        return pb

    def _server_name(self, subscription: str) -> str:
        project, _ = names.parse_subscription(subscription)
        return f"projects/{project}/snapshots/snapshot-{os.urandom(8).hex()}"

    def get(self, name: str) -> Snap:
        names.parse_snapshot(name)
        with self._lock:
            snap = self._snaps.get(name)
        if snap is None:
            raise not_found(names.short(name))
        return snap

    def list(self, project: str) -> list:
        prefix = f"projects/{names.parse_project(project)}/snapshots/"
        with self._lock:
            return [s.pb for n, s in sorted(self._snaps.items()) if n.startswith(prefix)]

    def of_topic(self, topic: str) -> list[str]:
        self._registry.topic(topic)
        with self._lock:
            return sorted(n for n, s in self._snaps.items() if s.pb.topic == topic)

    def update(self, update, mask):
        snap = self.get(update.name)
        merged = validate.apply_mask(
            snap.pb, update, mask, SNAPSHOT_UPDATABLE, {"name", "topic"}, "Snapshot"
        )
        snap.pb = merged
        self._store.put_resource("snapshot", merged.name, merged.SerializeToString())
        self._store.sync()
        return merged

    def delete(self, name: str) -> None:
        snap = self.get(name)
        with self._lock:
            self._snaps.pop(name, None)
        self._attach(snap.pb.topic, name, False)
        self._store.delete_resource("snapshot", name)
        self._store.clear_kept(name)
        self._store.sync()

    def record(self, snapshots: list[str], items: list[tuple[int, object]]) -> None:
        """Keeps newly published messages in the topic's snapshots (under its publish lock)."""
        with self._lock:
            for name in snapshots:
                snap = self._snaps.get(name)
                if snap is not None:
                    snap.messages.update(items)

    def expire(self, now: float) -> None:
        with self._lock:
            gone = [
                n for n, s in self._snaps.items() if s.pb.expire_time.ToNanoseconds() <= now * 1e9
            ]
        for name in gone:
            self.delete(name)

    # -- seek -----------------------------------------------------------------------------------

    def seek(self, request):
        sub = self._registry.sub(request.subscription)
        target = request.WhichOneof("target")
        own_unacked, own_acked = sub.queue.retained()
        own = {item[0]: item for item in own_unacked + own_acked}
        if target == "snapshot":
            snap = self.get(request.snapshot)
            if snap.pb.topic != sub.pb.topic:
                raise invalid(
                    "The snapshot's topic must be the same as that of the provided subscription."
                )
            with self._lock:
                items = list(snap.messages.items())
            unacked = [_item(seq, m) for seq, m in items if sub.matches(m.attributes)]
            back = {item[0] for item in unacked}
            acked = [item for seq, item in sorted(own.items()) if seq not in back]
        elif target == "time":
            when = request.time.seconds + request.time.nanos / 1e9
            offered = dict(own)
            for seq, msg in self._topic_log(sub.pb.topic):
                if seq not in offered and sub.matches(msg.attributes):
                    offered[seq] = _item(seq, msg)
            unacked = [i for s, i in sorted(offered.items()) if _published(i[1]) >= when]
            acked = [i for s, i in sorted(own.items()) if _published(i[1]) < when]
        else:
            raise invalid("A seek target (a time or a snapshot) is required.")
        if not sub.pb.retain_acked_messages:
            acked = []
        sub.queue.reset(unacked, acked)
        if self._registry.durable:
            rows = [(seq, m.SerializeToString(), False) for seq, m, _, _ in unacked]
            rows += [(seq, m.SerializeToString(), True) for seq, m, _, _ in acked]
            self._store.replace_messages(sub.pb.name, rows)
        self._store.sync()
        return protos.SeekResponse()

    def _topic_log(self, name: str) -> list[tuple[int, object]]:
        """The messages the topic's own retention keeps, in publish order."""
        try:
            topic = self._registry.topic(name)
        except ApiError:
            return []
        with topic.publish_lock:
            return list(topic.log.items())


def _item(seq: int, msg) -> tuple[int, object, int, str]:
    return (seq, msg, msg.ByteSize(), msg.ordering_key)


def _published(msg) -> float:
    return msg.publish_time.seconds + msg.publish_time.nanos / 1e9
