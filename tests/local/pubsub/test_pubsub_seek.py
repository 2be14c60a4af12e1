"""Snapshots and Seek through google-cloud-pubsub: replay to a time and to a snapshot, retained
acknowledged messages, topic retention, purge, and all of it again after a restart."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.protobuf import timestamp_pb2

from tests.local.pubsub.conftest import PROJECT, pull_until

TEN_MINUTES = {"seconds": 600}


def _publish_one_by_one(publisher, topic, payloads):
    """Publishes each payload in its own request, so each gets its own publish time."""
    return [publisher.publish(topic, p).result(timeout=10) for p in payloads]


def _drain(subscriber, sub, count):
    """Pulls and acks ``count`` messages; returns their data in order of arrival."""
    return [m.message.data for m in pull_until(subscriber, sub, count)]


def _nothing_left(subscriber, sub) -> bool:
    got = subscriber.pull(
        request={"subscription": sub, "max_messages": 10, "return_immediately": True}
    )
    return not got.received_messages


def _make(publisher, subscriber, names, **sub_fields):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(request={"name": sub, "topic": topic, **sub_fields})
    return topic, sub


def test_seek_to_a_time_replays_retained_acknowledged_messages(publisher, subscriber, names):
    topic, sub = _make(publisher, subscriber, names, retain_acked_messages=True)
    _publish_one_by_one(publisher, topic, [b"m0", b"m1", b"m2", b"m3"])
    got = pull_until(subscriber, sub, 4)
    assert sorted(m.message.data for m in got) == [b"m0", b"m1", b"m2", b"m3"]
    assert _nothing_left(subscriber, sub)
    m2 = next(m.message for m in got if m.message.data == b"m2")

    subscriber.seek(request={"subscription": sub, "time": m2.publish_time})
    assert sorted(_drain(subscriber, sub, 2)) == [b"m2", b"m3"]
    assert _nothing_left(subscriber, sub)

    # Seeking earlier still brings back the two before it: they were acked but retained.
    first = min(m.message.publish_time for m in got)
    subscriber.seek(request={"subscription": sub, "time": first})
    assert sorted(_drain(subscriber, sub, 4)) == [b"m0", b"m1", b"m2", b"m3"]


def test_seek_to_a_time_without_retention_only_purges(publisher, subscriber, names):
    topic, sub = _make(publisher, subscriber, names)
    _publish_one_by_one(publisher, topic, [b"acked", b"waiting-1", b"waiting-2"])
    [acked] = pull_until(subscriber, sub, 1)
    assert acked.message.data == b"acked"
    subscriber.seek(request={"subscription": sub, "time": acked.message.publish_time})
    # Nothing was retained, so the acked message does not come back; the waiting ones stay.
    assert sorted(_drain(subscriber, sub, 2)) == [b"waiting-1", b"waiting-2"]

    publisher.publish(topic, b"purged").result(timeout=10)
    future = timestamp_pb2.Timestamp()
    future.GetCurrentTime()
    future.seconds += 3600
    subscriber.seek(request={"subscription": sub, "time": future})  # purge the backlog
    assert _nothing_left(subscriber, sub)


def test_seek_to_a_snapshot_replays_exactly_its_messages(publisher, subscriber, names):
    topic, sub = _make(publisher, subscriber, names)
    publisher.publish(topic, b"before-acked").result(timeout=10)
    assert _drain(subscriber, sub, 1) == [b"before-acked"]
    publisher.publish(topic, b"unacked-at-snapshot").result(timeout=10)
    snapshot = f"projects/{PROJECT}/snapshots/snap-{names.tag}"
    created = subscriber.create_snapshot(name=snapshot, subscription=sub)
    assert created.topic == topic
    assert created.expire_time.timestamp() > 0
    publisher.publish(topic, b"after-snapshot").result(timeout=10)
    assert sorted(_drain(subscriber, sub, 2)) == [b"after-snapshot", b"unacked-at-snapshot"]
    assert _nothing_left(subscriber, sub)

    subscriber.seek(request={"subscription": sub, "snapshot": snapshot})
    assert sorted(_drain(subscriber, sub, 2)) == [b"after-snapshot", b"unacked-at-snapshot"]
    assert _nothing_left(subscriber, sub)

    # Another subscription of the same topic can seek to it too; its filter applies.
    other = names.sub("other")
    subscriber.create_subscription(
        request={"name": other, "topic": topic, "filter": "attributes:keep"}
    )
    publisher.publish(topic, b"kept", keep="1").result(timeout=10)
    subscriber.seek(request={"subscription": other, "snapshot": snapshot})
    assert _drain(subscriber, other, 1) == [b"kept"]  # the snapshot's other two lack `keep`
    assert _nothing_left(subscriber, other)


def test_topic_retention_replays_messages_from_before_the_subscription(
    publisher, subscriber, names
):
    topic = names.topic()
    publisher.create_topic(request={"name": topic, "message_retention_duration": TEN_MINUTES})
    ids = _publish_one_by_one(publisher, topic, [b"early-1", b"early-2"])
    sub = names.sub()
    created = subscriber.create_subscription(name=sub, topic=topic)
    assert created.topic_message_retention_duration.total_seconds() == 600
    assert _nothing_left(subscriber, sub)
    start = timestamp_pb2.Timestamp(seconds=1)
    subscriber.seek(request={"subscription": sub, "time": start})
    got = pull_until(subscriber, sub, 2)
    assert sorted(m.message.message_id for m in got) == sorted(ids)


def test_snapshot_admin(publisher, subscriber, names):
    topic, sub = _make(publisher, subscriber, names)
    snapshot = f"projects/{PROJECT}/snapshots/admin-{names.tag}"
    subscriber.create_snapshot(
        request={"name": snapshot, "subscription": sub, "labels": {"a": "1"}}
    )
    with pytest.raises(exceptions.AlreadyExists):
        subscriber.create_snapshot(name=snapshot, subscription=sub)
    assert subscriber.get_snapshot(snapshot=snapshot).labels == {"a": "1"}
    updated = subscriber.update_snapshot(
        request={
            "snapshot": {"name": snapshot, "labels": {"b": "2"}},
            "update_mask": {"paths": ["labels"]},
        }
    )
    assert updated.labels == {"b": "2"}
    listed = [s.name for s in subscriber.list_snapshots(project=f"projects/{PROJECT}")]
    assert snapshot in listed
    assert list(publisher.list_topic_snapshots(topic=topic)) == [snapshot]

    # An empty name asks the server for one.
    named = subscriber.create_snapshot(request={"name": "", "subscription": sub})
    assert named.name.startswith(f"projects/{PROJECT}/snapshots/")

    _, other_sub = _make(publisher, subscriber, type(names)())
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.seek(request={"subscription": other_sub, "snapshot": snapshot})
    with pytest.raises(exceptions.NotFound):
        subscriber.seek(request={"subscription": sub, "snapshot": snapshot + "-missing"})
    with pytest.raises(exceptions.NotFound):
        subscriber.create_snapshot(name=snapshot + "-x", subscription=sub + "-missing")
    subscriber.delete_snapshot(snapshot=snapshot)
    with pytest.raises(exceptions.NotFound):
        subscriber.get_snapshot(snapshot=snapshot)
    assert list(publisher.list_topic_snapshots(topic=topic)) == [named.name]


def test_seek_and_snapshots_survive_a_restart(emulator_process, clients_for, tmp_path):
    data_dir = str(tmp_path / "data")
    first = emulator_process(data_dir=data_dir)
    publisher, subscriber = clients_for(first.target)
    topic, sub = "projects/durable/topics/replay", "projects/durable/subscriptions/replay"
    snapshot = "projects/durable/snapshots/replay"
    publisher.create_topic(name=topic)
    subscriber.create_subscription(
        request={"name": sub, "topic": topic, "retain_acked_messages": True}
    )
    _publish_one_by_one(publisher, topic, [b"a", b"b"])
    got = pull_until(subscriber, sub, 2)
    subscriber.create_snapshot(name=snapshot, subscription=sub)  # nothing unacked: empty
    publisher.publish(topic, b"c").result(timeout=10)
    got += pull_until(subscriber, sub, 1)
    earliest = min(m.message.publish_time for m in got)
    publisher.create_topic(name="projects/durable/topics/barrier")  # acks are written behind
    first.kill()

    second = emulator_process(data_dir=data_dir)
    publisher, subscriber = clients_for(second.target)
    assert _nothing_left(subscriber, sub)  # the acks were kept as acks
    subscriber.seek(request={"subscription": sub, "time": earliest})
    assert sorted(_drain(subscriber, sub, 3)) == [b"a", b"b", b"c"]
    assert subscriber.get_snapshot(snapshot=snapshot).topic == topic
    subscriber.seek(request={"subscription": sub, "snapshot": snapshot})
    assert _drain(subscriber, sub, 1) == [b"c"]  # recorded after the snapshot was taken
    assert _nothing_left(subscriber, sub)
