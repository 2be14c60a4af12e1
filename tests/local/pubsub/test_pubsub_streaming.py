"""StreamingPull through the official client's subscribe(): ack, nack, modack, flow control."""

from __future__ import annotations

import threading
import time

import pytest
from google.cloud import pubsub_v1


def _setup(publisher, subscriber, names, **sub_fields):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(request={"name": sub, "topic": topic, **sub_fields})
    return topic, sub


def _wait(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_subscribe_receives_and_acks(publisher, subscriber, names):
    topic, sub = _setup(publisher, subscriber, names)
    received = []
    lock = threading.Lock()

    def callback(message):
        with lock:
            received.append(message.data)
        message.ack()

    future = subscriber.subscribe(sub, callback)
    try:
        for i in range(50):
            publisher.publish(topic, b"%d" % i)
        assert _wait(lambda: len(received) >= 50)
    finally:
        future.cancel()
        future.result(timeout=10)
    assert sorted(received, key=int) == [b"%d" % i for i in range(50)]
    # Everything was acknowledged: nothing comes back.
    response = subscriber.pull(
        request={"subscription": sub, "max_messages": 10, "return_immediately": True}
    )
    assert not response.received_messages


def test_nack_redelivers_with_attempts(publisher, subscriber, names):
    dead = names.topic("dead")
    publisher.create_topic(name=dead)
    topic, sub = _setup(
        publisher,
        subscriber,
        names,
        dead_letter_policy={"dead_letter_topic": dead, "max_delivery_attempts": 10},
    )
    attempts = []

    def callback(message):
        attempts.append(message.delivery_attempt)
        if len(attempts) < 3:
            message.nack()
        else:
            message.ack()

    future = subscriber.subscribe(sub, callback)
    try:
        publisher.publish(topic, b"again").result(timeout=10)
        assert _wait(lambda: len(attempts) >= 3)
        time.sleep(0.3)
    finally:
        future.cancel()
        future.result(timeout=10)
    assert attempts == [1, 2, 3]


def test_held_message_with_modack_is_not_redelivered(publisher, subscriber, names):
    topic, sub = _setup(publisher, subscriber, names)
    publisher.publish(topic, b"held").result(timeout=10)
    seen = []

    def callback(message):
        seen.append(message)
        message.modify_ack_deadline(60)  # held, not acked

    # The client's own lease extension would hide the server side; limit it to one message.
    flow = pubsub_v1.types.FlowControl(max_messages=1, max_lease_duration=60)
    future = subscriber.subscribe(sub, callback, flow_control=flow)
    try:
        assert _wait(lambda: len(seen) == 1)
        time.sleep(1.0)
        assert len(seen) == 1  # no redelivery while leased
        seen[0].ack()
        time.sleep(0.3)
    finally:
        future.cancel()
        future.result(timeout=10)
    response = subscriber.pull(
        request={"subscription": sub, "max_messages": 1, "return_immediately": True}
    )
    assert not response.received_messages


def test_flow_control_limits_outstanding_messages(publisher, subscriber, names):
    topic, sub = _setup(publisher, subscriber, names)
    held = []
    lock = threading.Lock()

    def callback(message):
        with lock:
            held.append(message)

    for i in range(10):
        publisher.publish(topic, b"%d" % i)
    publisher.publish(topic, b"last").result(timeout=10)
    flow = pubsub_v1.types.FlowControl(max_messages=3)
    future = subscriber.subscribe(sub, callback, flow_control=flow)
    try:
        assert _wait(lambda: len(held) == 3)
        time.sleep(0.5)
        assert len(held) == 3  # the stream stops at the client's limit
        with lock:
            for message in held[:2]:
                message.ack()
        assert _wait(lambda: len(held) == 5)
        time.sleep(0.3)
        assert len(held) == 5
        with lock:
            for message in held[2:]:
                message.ack()
        assert _wait(lambda: len(held) == 8)
    finally:
        future.cancel()
        future.result(timeout=10)


def test_two_subscribers_share_a_subscription(publisher, subscriber, names, pubsub_emulator):
    topic, sub = _setup(publisher, subscriber, names)
    got: dict[str, list] = {"a": [], "b": []}

    def make(tag):
        def callback(message):
            got[tag].append(message.data)
            time.sleep(0.01)
            message.ack()

        return callback

    flow = pubsub_v1.types.FlowControl(max_messages=5)
    futures = [subscriber.subscribe(sub, make(tag), flow_control=flow) for tag in "ab"]
    try:
        for i in range(100):
            publisher.publish(topic, b"%d" % i)
        assert _wait(lambda: len(got["a"]) + len(got["b"]) >= 100)
    finally:
        for future in futures:
            future.cancel()
            future.result(timeout=10)
    assert sorted(got["a"] + got["b"], key=int) == [b"%d" % i for i in range(100)]
    assert got["a"]
    assert got["b"]


def test_subscribe_to_a_missing_or_deleted_subscription_fails(publisher, subscriber, names):
    from google.api_core import exceptions

    future = subscriber.subscribe(names.sub("missing"), lambda message: message.ack())
    with pytest.raises(exceptions.NotFound):
        future.result(timeout=10)

    _, sub = _setup(publisher, subscriber, names)
    future = subscriber.subscribe(sub, lambda message: message.ack())
    time.sleep(0.3)
    subscriber.delete_subscription(subscription=sub)
    with pytest.raises(exceptions.NotFound):
        future.result(timeout=10)
