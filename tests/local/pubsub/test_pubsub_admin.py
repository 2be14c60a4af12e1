"""Topics and subscriptions through the official client: CRUD, names, status codes."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.protobuf import duration_pb2, field_mask_pb2

PROJECT = "test-project"


def test_topic_lifecycle(publisher, names):
    topic = names.topic()
    created = publisher.create_topic(request={"name": topic, "labels": {"team": "ml"}})
    assert created.name == topic
    assert publisher.get_topic(request={"topic": topic}).labels == {"team": "ml"}
    listed = [t.name for t in publisher.list_topics(request={"project": f"projects/{PROJECT}"})]
    assert topic in listed

    updated = publisher.update_topic(
        request={
            "topic": {"name": topic, "labels": {"team": "data"}},
            "update_mask": field_mask_pb2.FieldMask(paths=["labels"]),
        }
    )
    assert updated.labels == {"team": "data"}

    publisher.delete_topic(request={"topic": topic})
    with pytest.raises(exceptions.NotFound):
        publisher.get_topic(request={"topic": topic})
    with pytest.raises(exceptions.NotFound):
        publisher.delete_topic(request={"topic": topic})


def test_topic_errors(publisher, names):
    topic = names.topic()
    publisher.create_topic(name=topic)
    with pytest.raises(exceptions.AlreadyExists):
        publisher.create_topic(name=topic)
    with pytest.raises(exceptions.NotFound):
        publisher.get_topic(topic=names.topic("missing"))
    with pytest.raises(exceptions.NotFound):
        publisher.publish(names.topic("missing"), b"x").result(timeout=10)
    with pytest.raises(exceptions.InvalidArgument):
        publisher.update_topic(
            request={"topic": {"name": topic}, "update_mask": field_mask_pb2.FieldMask(paths=[])}
        )
    with pytest.raises(exceptions.InvalidArgument):
        publisher.update_topic(
            request={
                "topic": {"name": topic},
                "update_mask": field_mask_pb2.FieldMask(paths=["name"]),
            }
        )


@pytest.mark.parametrize(
    "topic_id",
    [
        "ab",  # too short
        "1abc",  # must start with a letter
        "goog-topic",  # reserved prefix
        "has space",
        "has/slash",
        "x" * 256,  # too long
        "ünïcode",
    ],
)
def test_invalid_topic_names(publisher, topic_id):
    with pytest.raises(exceptions.InvalidArgument):
        publisher.create_topic(name=f"projects/{PROJECT}/topics/{topic_id}")


@pytest.mark.parametrize("topic_id", ["abc", "a-b_c.d~e+f%g", "A" + "x" * 254])
def test_valid_topic_names(publisher, topic_id):
    name = f"projects/{PROJECT}/topics/{topic_id}"
    publisher.create_topic(name=name)
    publisher.delete_topic(topic=name)


def test_subscription_lifecycle(publisher, subscriber, names):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    created = subscriber.create_subscription(
        request={
            "name": sub,
            "topic": topic,
            "ack_deadline_seconds": 30,
            "retry_policy": {"minimum_backoff": duration_pb2.Duration(seconds=1)},
        }
    )
    assert created.ack_deadline_seconds == 30
    assert created.retry_policy.maximum_backoff.total_seconds() == 600  # the real default
    assert created.message_retention_duration.total_seconds() == 7 * 86400
    assert created.state.name == "ACTIVE"
    assert subscriber.get_subscription(subscription=sub).topic == topic

    listed = [s.name for s in subscriber.list_subscriptions(project=f"projects/{PROJECT}")]
    assert sub in listed
    assert list(publisher.list_topic_subscriptions(topic=topic)) == [sub]

    updated = subscriber.update_subscription(
        request={
            "subscription": {"name": sub, "ack_deadline_seconds": 60, "labels": {"a": "b"}},
            "update_mask": field_mask_pb2.FieldMask(paths=["ack_deadline_seconds", "labels"]),
        }
    )
    assert updated.ack_deadline_seconds == 60
    assert updated.labels == {"a": "b"}
    assert subscriber.get_subscription(subscription=sub).ack_deadline_seconds == 60

    subscriber.delete_subscription(subscription=sub)
    with pytest.raises(exceptions.NotFound):
        subscriber.get_subscription(subscription=sub)
    assert list(publisher.list_topic_subscriptions(topic=topic)) == []


def test_subscription_errors(publisher, subscriber, names):
    topic, sub = names.topic(), names.sub()
    with pytest.raises(exceptions.NotFound):
        subscriber.create_subscription(name=sub, topic=topic)
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    with pytest.raises(exceptions.AlreadyExists):
        subscriber.create_subscription(name=sub, topic=topic)
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.create_subscription(name=f"projects/{PROJECT}/subscriptions/goog-x", topic=topic)
    bad = [
        {"ack_deadline_seconds": 5},
        {"ack_deadline_seconds": 601},
        {"dead_letter_policy": {"dead_letter_topic": topic, "max_delivery_attempts": 4}},
        {"dead_letter_policy": {"dead_letter_topic": topic, "max_delivery_attempts": 101}},
        {
            "retry_policy": {
                "minimum_backoff": duration_pb2.Duration(seconds=20),
                "maximum_backoff": duration_pb2.Duration(seconds=10),
            }
        },
        {"filter": "attributes:a AND attributes:b OR attributes:c"},
        {"filter": "attributes.x = unquoted"},
        {"push_config": {"push_endpoint": "ftp://example.com/"}},
    ]
    for i, extra in enumerate(bad):
        with pytest.raises(exceptions.InvalidArgument):
            subscriber.create_subscription(
                request={"name": names.sub(f"bad{i}"), "topic": topic, **extra}
            )
    with pytest.raises(exceptions.InvalidArgument):  # the filter is immutable
        subscriber.update_subscription(
            request={
                "subscription": {"name": sub, "filter": "attributes:a"},
                "update_mask": field_mask_pb2.FieldMask(paths=["filter"]),
            }
        )
    with pytest.raises(exceptions.NotFound):
        subscriber.pull(subscription=names.sub("missing"), max_messages=1)
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.acknowledge(subscription=sub, ack_ids=["not-an-ack-id"])
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.modify_ack_deadline(
            subscription=sub, ack_ids=["00000000-1"], ack_deadline_seconds=601
        )


def test_unimplemented_features(publisher, subscriber, names):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    with pytest.raises(exceptions.MethodNotImplemented):
        subscriber.create_subscription(
            request={"name": names.sub("bq"), "topic": topic, "bigquery_config": {"table": "t"}}
        )


def test_deleting_a_topic_leaves_its_subscriptions(publisher, subscriber, names):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    publisher.publish(topic, b"kept").result(timeout=10)
    publisher.delete_topic(topic=topic)
    assert subscriber.get_subscription(subscription=sub).topic == "_deleted-topic_"
    got = subscriber.pull(subscription=sub, max_messages=1, timeout=10)
    assert got.received_messages[0].message.data == b"kept"


def test_paging(publisher, names):
    project = f"projects/paging-{names.tag}"
    for i in range(5):
        publisher.create_topic(name=f"{project}/topics/topic-{i}")
    page = publisher.list_topics(request={"project": project, "page_size": 2})
    assert [t.name.rsplit("/", 1)[1] for t in page] == [f"topic-{i}" for i in range(5)]
    first = next(iter(publisher.list_topics(request={"project": project, "page_size": 2}).pages))
    assert len(first.topics) == 2
    assert first.next_page_token


def test_detach(publisher, subscriber, names):
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    publisher.detach_subscription(request={"subscription": sub})
    assert subscriber.get_subscription(subscription=sub).detached
    publisher.publish(topic, b"after").result(timeout=10)
    got = subscriber.pull(
        request={"subscription": sub, "max_messages": 1, "return_immediately": True}
    )
    assert not got.received_messages
