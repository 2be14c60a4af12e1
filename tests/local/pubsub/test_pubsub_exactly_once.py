"""Exactly-once delivery through google-cloud-pubsub: ack futures that succeed or fail as the
real service answers, and nothing acknowledged comes back, not even after kill -9."""

from __future__ import annotations

import threading

import pytest
from google.api_core import exceptions
from google.cloud.pubsub_v1.subscriber import exceptions as sub_exceptions
from google.cloud.pubsub_v1.subscriber.exceptions import AcknowledgeStatus
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.local.pubsub.conftest import pull_until


def _eod(publisher, subscriber, names, **fields):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(
        request={"name": sub, "topic": topic, "enable_exactly_once_delivery": True, **fields}
    )
    return topic, sub


def _error_info(exc: exceptions.GoogleAPICallError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(exc.response)
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info


def test_streaming_acks_resolve_and_nothing_acked_comes_back(publisher, subscriber, names):
    topic, sub = _eod(publisher, subscriber, names)
    assert subscriber.get_subscription(subscription=sub).enable_exactly_once_delivery
    for i in range(10):
        publisher.publish(topic, b"%d" % i)
    publisher.publish(topic, b"last").result(timeout=10)

    lock = threading.Lock()
    seen: list[bytes] = []
    statuses: list = []
    done = threading.Event()

    def callback(message):
        assert message._exactly_once_delivery_enabled_func()  # the stream said so
        status = message.ack_with_response().result(timeout=10)
        with lock:
            seen.append(message.data)
            statuses.append(status)
            if len(seen) >= 11:
                done.set()

    future = subscriber.subscribe(sub, callback)
    try:
        assert done.wait(15)
        # A message whose ack had failed would be nacked by the client and come back at once.
        threading.Event().wait(1.0)
    finally:
        future.cancel()
        future.result(timeout=10)
    assert statuses == [AcknowledgeStatus.SUCCESS] * 11
    assert sorted(seen) == sorted([b"%d" % i for i in range(10)] + [b"last"])
    leftover = subscriber.pull(
        request={"subscription": sub, "max_messages": 20, "return_immediately": True}
    )
    assert not leftover.received_messages


def test_an_ack_after_a_nack_fails_with_invalid_ack_id(publisher, subscriber, names):
    topic, sub = _eod(publisher, subscriber, names)
    publisher.publish(topic, b"x").result(timeout=10)
    first_delivery = []
    got_first = threading.Event()
    stale_done = threading.Event()
    redelivered = threading.Event()

    def callback(message):
        if not first_delivery:
            first_delivery.append(message)
            assert message.nack_with_response().result(timeout=10) == AcknowledgeStatus.SUCCESS
            got_first.set()
        else:
            # Not in the same request as the stale ack: the client library fails every ack id
            # of a request that had an invalid one (AcknowledgeStatus.OTHER for the valid ones).
            stale_done.wait(10)
            assert message.ack_with_response().result(timeout=10) == AcknowledgeStatus.SUCCESS
            redelivered.set()

    future = subscriber.subscribe(sub, callback)
    try:
        assert got_first.wait(10)
        stale = first_delivery[0].ack_with_response()
        with pytest.raises(sub_exceptions.AcknowledgeError) as info:
            stale.result(timeout=10)
        stale_done.set()
        assert info.value.error_code == AcknowledgeStatus.INVALID_ACK_ID
        assert redelivered.wait(10)  # the nacked message came back and was acked
    finally:
        future.cancel()
        future.result(timeout=10)


def test_unary_ack_and_modack_report_each_failed_ack_id(publisher, subscriber, names):
    topic, sub = _eod(publisher, subscriber, names)
    publisher.publish(topic, b"a").result(timeout=10)
    publisher.publish(topic, b"b").result(timeout=10)
    [first, second] = pull_until(subscriber, sub, 2, ack=False)
    subscriber.modify_ack_deadline(subscription=sub, ack_ids=[first.ack_id], ack_deadline_seconds=0)
    with pytest.raises(exceptions.InvalidArgument) as info:
        subscriber.acknowledge(subscription=sub, ack_ids=[first.ack_id, second.ack_id])
    details = _error_info(info.value)
    assert details.reason == "EXACTLY_ONCE_ACKID_FAILURE"
    assert details.domain == "pubsub.googleapis.com"
    assert dict(details.metadata) == {first.ack_id: "PERMANENT_FAILURE_INVALID_ACK_ID"}
    with pytest.raises(exceptions.InvalidArgument) as info:
        subscriber.modify_ack_deadline(
            subscription=sub, ack_ids=[second.ack_id], ack_deadline_seconds=30
        )
    assert dict(_error_info(info.value).metadata) == {
        second.ack_id: "PERMANENT_FAILURE_INVALID_ACK_ID"  # acked above: its lease is over
    }
    [again] = pull_until(subscriber, sub, 1)  # only the nacked one comes back
    assert again.message.data == b"a"


def test_at_least_once_ignores_stale_ack_ids(publisher, subscriber, names):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    publisher.publish(topic, b"a").result(timeout=10)
    [message] = pull_until(subscriber, sub, 1)
    subscriber.acknowledge(subscription=sub, ack_ids=[message.ack_id])  # again: no error


def test_an_acknowledged_message_stays_acknowledged_after_kill_9(
    emulator_process, clients_for, tmp_path
):
    data_dir = str(tmp_path / "data")
    first = emulator_process(data_dir=data_dir)
    publisher, subscriber = clients_for(first.target)
    topic, sub = "projects/eod/topics/orders", "projects/eod/subscriptions/orders"
    publisher.create_topic(name=topic)
    subscriber.create_subscription(
        request={"name": sub, "topic": topic, "enable_exactly_once_delivery": True}
    )
    for i in range(20):
        publisher.publish(topic, b"%d" % i).result(timeout=10)
    got = pull_until(subscriber, sub, 20, ack=False)
    acked = got[:15]
    subscriber.acknowledge(subscription=sub, ack_ids=[m.ack_id for m in acked])
    first.kill()  # right after the ack answered: it is on disk already

    second = emulator_process(data_dir=data_dir)
    _, subscriber = clients_for(second.target)
    again = pull_until(subscriber, sub, 20, timeout=3.0)
    assert {m.message.data for m in again} == {m.message.data for m in got[15:]}
