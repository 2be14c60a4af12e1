"""The stack's Cloud Storage: bucket notifications published as Google publishes them."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.conftest import pull_available


@pytest.fixture
def wired(emulators):
    """A bucket with a notification to a topic, and a pull subscription on that topic."""
    project, tag = emulators.project, uuid.uuid4().hex[:8]
    topic = f"projects/{project}/topics/gcs-{tag}"
    subscription = f"projects/{project}/subscriptions/gcs-{tag}"
    emulators.publisher().create_topic(name=topic)
    emulators.subscriber().create_subscription(name=subscription, topic=topic)
    bucket = emulators.storage().create_bucket(f"notify-{tag}")
    return bucket, f"gcs-{tag}", subscription


def _pull(emulators, subscription: str, expected: int, timeout: float = 10.0) -> list:
    subscriber, messages = emulators.subscriber(), []
    deadline = time.monotonic() + timeout
    while len(messages) < expected and time.monotonic() < deadline:
        messages += pull_available(subscriber, subscription)
    return messages


def _notify(bucket, topic: str, project: str, **kwargs):
    notification = bucket.notification(topic_name=topic, topic_project=project, **kwargs)
    notification.create()
    return notification


def test_finalize_carries_googles_attributes_and_the_object(emulators, wired):
    bucket, topic, subscription = wired
    config = _notify(bucket, topic, emulators.project, payload_format="JSON_API_V1")
    blob = bucket.blob("in/photo.png")
    blob.upload_from_string(b"\x89PNG...", content_type="image/png")
    blob.reload()
    [message] = _pull(emulators, subscription, 1)
    attributes = dict(message.attributes)
    assert attributes.pop("eventTime").endswith("Z")
    assert attributes == {
        "notificationConfig": f"projects/_/buckets/{bucket.name}/notificationConfigs/"
        f"{config.notification_id}",
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
        "bucketId": bucket.name,
        "objectId": "in/photo.png",
        "objectGeneration": str(blob.generation),
    }
    resource = json.loads(message.data)
    assert (resource["bucket"], resource["name"]) == (bucket.name, "in/photo.png")
    assert resource["contentType"] == "image/png"
    assert resource["generation"] == str(blob.generation)


def test_overwrite_and_delete(emulators, wired):
    bucket, topic, subscription = wired
    _notify(bucket, topic, emulators.project, event_types=["OBJECT_FINALIZE", "OBJECT_DELETE"])
    blob = bucket.blob("doc.txt")
    blob.upload_from_string(b"one")
    first = bucket.get_blob("doc.txt").generation
    blob.upload_from_string(b"two")
    second = bucket.get_blob("doc.txt").generation
    blob.delete()
    events = [
        (
            m.attributes["eventType"],
            m.attributes["objectGeneration"],
            m.attributes.get("overwroteGeneration"),
            m.attributes.get("overwrittenByGeneration"),
        )
        for m in _pull(emulators, subscription, 4)
    ]
    assert sorted(events) == sorted(
        [
            ("OBJECT_FINALIZE", str(first), None, None),
            ("OBJECT_DELETE", str(first), None, str(second)),
            ("OBJECT_FINALIZE", str(second), str(first), None),
            ("OBJECT_DELETE", str(second), None, None),
        ]
    )


def test_prefix_payload_none_and_custom_attributes(emulators, wired):
    bucket, topic, subscription = wired
    _notify(
        bucket,
        topic,
        emulators.project,
        blob_name_prefix="scans/",
        payload_format="NONE",
        custom_attributes={"pipeline": "ocr"},
    )
    bucket.blob("other/skip.png").upload_from_string(b"x")
    bucket.blob("scans/take.png").upload_from_string(b"x")
    [message] = _pull(emulators, subscription, 2, timeout=3)
    assert message.attributes["objectId"] == "scans/take.png"
    assert message.attributes["pipeline"] == "ocr"
    assert message.attributes["payloadFormat"] == "NONE"
    assert message.data == b""


def test_notification_configs_can_be_listed_read_and_deleted(emulators, wired):
    bucket, topic, _ = wired
    config = _notify(bucket, topic, emulators.project)
    assert [n.notification_id for n in bucket.list_notifications()] == [config.notification_id]
    assert config.exists()
    config.delete()
    assert list(bucket.list_notifications()) == []
