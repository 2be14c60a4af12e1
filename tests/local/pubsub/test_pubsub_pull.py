"""Publish and Pull with the official client: acks, deadlines, ordering, filters, dead letters."""

from __future__ import annotations

import time

import pytest
from google.cloud import pubsub_v1
from google.protobuf import duration_pb2


def _setup(publisher, subscriber, names, **sub_fields):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(request={"name": sub, "topic": topic, **sub_fields})
    return topic, sub


def _pull(subscriber, sub, n=10, wait=True):
    return list(
        subscriber.pull(
            request={"subscription": sub, "max_messages": n, "return_immediately": not wait},
            timeout=15,
        ).received_messages
    )


def _pull_one(subscriber, sub, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = _pull(subscriber, sub, 1)
        if got:
            return got[0]
    raise AssertionError("no message arrived")


def test_publish_assigns_ids_and_times(publisher, subscriber, names):
    topic, sub = _setup(publisher, subscriber, names)
    before = time.time()
    ids = [publisher.publish(topic, b"m%d" % i, kind="x").result(timeout=10) for i in range(3)]
    assert len(set(ids)) == 3
    assert all(i.isdigit() for i in ids)
    got = []
    while len(got) < 3:
        got += _pull(subscriber, sub)
    assert [m.message.message_id for m in got] == ids
    assert [m.message.data for m in got] == [b"m0", b"m1", b"m2"]
    assert got[0].message.attributes == {"kind": "x"}
    published = got[0].message.publish_time.timestamp()
    assert before - 1 <= published <= time.time() + 1
    assert got[0].delivery_attempt == 0  # only reported with a dead-letter policy


def test_empty_message_is_rejected(publisher, names):
    from google.api_core import exceptions

    topic = names.topic()
    publisher.create_topic(name=topic)
    with pytest.raises(exceptions.InvalidArgument):
        publisher.publish(topic, b"").result(timeout=10)


def test_ack_removes_and_nack_redelivers(publisher, subscriber, names):
    topic, sub = _setup(publisher, subscriber, names)
    publisher.publish(topic, b"once").result(timeout=10)
    first = _pull_one(subscriber, sub)
    subscriber.modify_ack_deadline(
        subscription=sub, ack_ids=[first.ack_id], ack_deadline_seconds=0
    )  # nack
    again = _pull_one(subscriber, sub)
    assert again.message.message_id == first.message.message_id
    assert again.ack_id != first.ack_id
    subscriber.acknowledge(subscription=sub, ack_ids=[again.ack_id])
    subscriber.acknowledge(subscription=sub, ack_ids=[first.ack_id])  # stale: ignored
    assert _pull(subscriber, sub, wait=False) == []


def test_ack_deadline_expiry_redelivers(publisher, subscriber, names):
    topic, sub = _setup(publisher, subscriber, names)
    publisher.publish(topic, b"slow").result(timeout=10)
    first = _pull_one(subscriber, sub)
    subscriber.modify_ack_deadline(subscription=sub, ack_ids=[first.ack_id], ack_deadline_seconds=1)
    assert _pull(subscriber, sub, wait=False) == []  # still leased
    started = time.monotonic()
    again = _pull_one(subscriber, sub)
    assert again.message.message_id == first.message.message_id
    assert 0.5 < time.monotonic() - started < 3
    subscriber.acknowledge(subscription=sub, ack_ids=[first.ack_id])  # the old lease ended
    assert _pull(subscriber, sub, wait=False) == []
    subscriber.modify_ack_deadline(subscription=sub, ack_ids=[again.ack_id], ack_deadline_seconds=0)
    assert _pull_one(subscriber, sub).message.message_id == first.message.message_id


def test_ordering_keys_one_outstanding_per_key(subscriber, pubsub_emulator, names):
    import grpc
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

    publisher = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True),
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(pubsub_emulator)),
    )
    topic, sub = _setup(publisher, subscriber, names, enable_message_ordering=True)
    futures = [
        publisher.publish(topic, f"{key}{i}".encode(), ordering_key=key)
        for i in range(3)
        for key in ("a", "b")
    ]
    futures.append(publisher.publish(topic, b"free"))
    for future in futures:
        future.result(timeout=10)

    batch = _pull(subscriber, sub, 10)
    # One outstanding message per key: a0 and b0 (and the unordered one), nothing more.
    assert sorted(m.message.data for m in batch) == [b"a0", b"b0", b"free"]
    by_data = {m.message.data: m for m in batch}
    # A nack of a0 redelivers a0 before a1.
    subscriber.modify_ack_deadline(
        subscription=sub, ack_ids=[by_data[b"a0"].ack_id], ack_deadline_seconds=0
    )
    subscriber.acknowledge(
        subscription=sub, ack_ids=[by_data[b"b0"].ack_id, by_data[b"free"].ack_id]
    )
    seen = {"a": [], "b": []}
    end = time.monotonic() + 10
    while (len(seen["a"]) < 3 or len(seen["b"]) < 2) and time.monotonic() < end:
        for m in _pull(subscriber, sub, 10):
            seen[m.message.ordering_key].append(m.message.data)
            subscriber.acknowledge(subscription=sub, ack_ids=[m.ack_id])
    assert seen == {"a": [b"a0", b"a1", b"a2"], "b": [b"b1", b"b2"]}
    publisher.stop()


FILTERS = {
    "eq": 'attributes.color = "red"',
    "ne": 'attributes.color != "red"',
    "has": "attributes:size",
    "prefix": 'hasPrefix(attributes.color, "bl")',
    "not": "NOT attributes:size",
    "minus": "-attributes:color",
    "and": 'attributes.color = "red" AND attributes:size',
    "or": 'attributes.color = "blue" OR attributes:size',
    "paren": '(attributes.color = "blue" OR attributes.color = "red") AND NOT attributes:size',
}
MESSAGES = [
    ("m1", {"color": "red"}),
    ("m2", {"color": "red", "size": "L"}),
    ("m3", {"color": "blue"}),
    ("m4", {"size": "S"}),
    ("m5", {"other": "x"}),
]
EXPECTED = {
    "eq": {"m1", "m2"},
    "ne": {"m3", "m4", "m5"},
    "has": {"m2", "m4"},
    "prefix": {"m3"},
    "not": {"m1", "m3", "m5"},
    "minus": {"m4", "m5"},
    "and": {"m2"},
    "or": {"m2", "m3", "m4"},
    "paren": {"m1", "m3"},
}


def test_every_filter_form(publisher, subscriber, names):
    topic = names.topic()
    publisher.create_topic(name=topic)
    for key, text in FILTERS.items():
        subscriber.create_subscription(
            request={"name": names.sub(key), "topic": topic, "filter": text}
        )
    for data, attrs in MESSAGES:
        publisher.publish(topic, data.encode(), **attrs).result(timeout=10)
    for key, expected in EXPECTED.items():
        sub = names.sub(key)
        got = set()
        for _ in range(len(expected)):
            got |= {m.message.data.decode() for m in _pull(subscriber, sub, 10, wait=not got)}
            if len(got) >= len(expected):
                break
        assert got == expected, key
        # Non-matching messages were acknowledged by the service: nothing else is waiting.
        for m in _pull(subscriber, sub, 10, wait=False):
            raise AssertionError(f"{key}: unexpected {m.message.data}")


def test_dead_letter_after_max_attempts(publisher, subscriber, names):
    dead_topic, dead_sub = names.topic("dead"), names.sub("dead")
    publisher.create_topic(name=dead_topic)
    subscriber.create_subscription(name=dead_sub, topic=dead_topic)
    topic, sub = _setup(
        publisher,
        subscriber,
        names,
        dead_letter_policy={"dead_letter_topic": dead_topic, "max_delivery_attempts": 5},
    )
    publisher.publish(topic, b"poison", origin="test").result(timeout=10)
    attempts = []
    for _ in range(5):
        m = _pull_one(subscriber, sub)
        attempts.append(m.delivery_attempt)
        subscriber.modify_ack_deadline(subscription=sub, ack_ids=[m.ack_id], ack_deadline_seconds=0)
    assert attempts == [1, 2, 3, 4, 5]
    dead = _pull_one(subscriber, dead_sub)
    assert dead.message.data == b"poison"
    attrs = dict(dead.message.attributes)
    project, sub_id = sub.split("/")[1], sub.split("/")[3]
    assert attrs["origin"] == "test"
    assert attrs["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert attrs["CloudPubSubDeadLetterSourceSubscription"] == sub_id
    assert attrs["CloudPubSubDeadLetterSourceSubscriptionProject"] == project
    assert attrs["CloudPubSubDeadLetterSourceTopicPublishTime"].endswith("+00:00")
    assert _pull(subscriber, sub, wait=False) == []


def test_retry_policy_backoff_timing(publisher, subscriber, names):
    # 0.1 s doubling, capped at 0.3 s, over six nacks: 0.1, 0.2, 0.3, 0.3, 0.3, 0.3. Uncapped the
    # sixth would be 3.2 s, far beyond any scheduling delay of a loaded 2-core machine, so the
    # cap is asserted there; every gap is asserted never to come early.
    policy = {
        "minimum_backoff": duration_pb2.Duration(nanos=100_000_000),
        "maximum_backoff": duration_pb2.Duration(nanos=300_000_000),
    }
    topic, sub = _setup(publisher, subscriber, names, retry_policy=policy)
    publisher.publish(topic, b"retry").result(timeout=10)
    m = _pull_one(subscriber, sub)
    gaps = []
    for _ in range(6):
        nacked = time.monotonic()
        subscriber.modify_ack_deadline(subscription=sub, ack_ids=[m.ack_id], ack_deadline_seconds=0)
        m = _pull_one(subscriber, sub)
        gaps.append(time.monotonic() - nacked)
    for gap, want in zip(gaps, [0.1, 0.2, 0.3, 0.3, 0.3, 0.3], strict=True):
        assert gap >= want - 0.02, gaps
    assert gaps[-1] < 1.6, gaps  # capped: 0.3 s, not 3.2 s
