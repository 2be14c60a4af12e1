"""IAM through google-cloud-pubsub: policies round-trip on every resource kind with Google's
etag rules, and, with --enforce-iam, callers holding an emulator-signed token are checked."""

from __future__ import annotations

import json

import pytest
from google.api_core import exceptions

from local.pubsub import Emulator
from tests.local.pubsub.conftest import PROJECT

PUBLISHER_ROLE = {"role": "roles/pubsub.publisher", "members": ["serviceAccount:a@p.iam"]}


def _resources(publisher, subscriber, schema_client, names) -> dict:
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)
    snapshot = subscriber.create_snapshot(
        name=f"projects/{PROJECT}/snapshots/iam-{names.tag}", subscription=sub
    ).name
    schema = schema_client.create_schema(
        parent=f"projects/{PROJECT}",
        schema={"type_": "AVRO", "definition": json.dumps({"type": "string"})},
        schema_id=f"iam-{names.tag}",
    ).name
    return {"topic": topic, "subscription": sub, "snapshot": snapshot, "schema": schema}


def test_policies_round_trip_on_every_resource(publisher, subscriber, schema_client, names):
    for kind, resource in _resources(publisher, subscriber, schema_client, names).items():
        client = {"topic": publisher, "schema": schema_client}.get(kind, subscriber)
        empty = client.get_iam_policy(request={"resource": resource})
        assert list(empty.bindings) == []
        assert empty.etag == b"\x00\x20\x01", kind  # "ACAB", a resource never given a policy
        stored = client.set_iam_policy(
            request={"resource": resource, "policy": {"bindings": [PUBLISHER_ROLE]}}
        )
        assert stored.etag != empty.etag
        again = client.get_iam_policy(request={"resource": resource})
        assert again == stored
        assert again.bindings[0].members == ["serviceAccount:a@p.iam"]
        # A read-modify-write that read before someone else's write fails.
        with pytest.raises(exceptions.Aborted):
            client.set_iam_policy(
                request={"resource": resource, "policy": {"bindings": [], "etag": empty.etag}}
            )
        wanted = ["pubsub.topics.publish", "pubsub.subscriptions.consume"]
        granted = client.test_iam_permissions(request={"resource": resource, "permissions": wanted})
        assert list(granted.permissions) == wanted  # permissive without --enforce-iam


def test_policies_of_missing_resources(publisher, subscriber, names):
    with pytest.raises(exceptions.NotFound):
        publisher.get_iam_policy(request={"resource": names.topic("missing")})
    with pytest.raises(exceptions.NotFound):
        subscriber.set_iam_policy(request={"resource": names.sub("missing"), "policy": {}})


def test_enforced_policies_check_token_callers(clients_for):
    with Emulator("127.0.0.1", 0, enforce_iam=True) as emulator:
        publisher, subscriber = clients_for(emulator.target)
        topic, sub = "projects/iam/topics/orders", "projects/iam/subscriptions/orders"
        publisher.create_topic(name=topic)
        subscriber.create_subscription(name=sub, topic=topic)
        publisher.set_iam_policy(
            request={
                "resource": topic,
                "policy": {"bindings": [{**PUBLISHER_ROLE, "members": ["serviceAccount:a@x.iam"]}]},
            }
        )

        def as_caller(email: str) -> list[tuple[str, str]]:
            token = emulator.signer.token(email, "https://pubsub.googleapis.com")
            return [("authorization", f"Bearer {token}")]

        messages = [{"data": b"hello"}]
        publisher.api.publish(topic=topic, messages=messages, metadata=as_caller("a@x.iam"))
        with pytest.raises(exceptions.PermissionDenied):
            publisher.api.publish(topic=topic, messages=messages, metadata=as_caller("b@x.iam"))
        publisher.api.publish(topic=topic, messages=messages)  # no token: not checked
        with pytest.raises(exceptions.PermissionDenied):
            subscriber.pull(subscription=sub, max_messages=1, metadata=as_caller("a@x.iam"))

        wanted = ["pubsub.topics.publish", "pubsub.topics.delete"]
        for email, expected in [("a@x.iam", wanted[:1]), ("b@x.iam", [])]:
            granted = publisher.test_iam_permissions(
                request={"resource": topic, "permissions": wanted}, metadata=as_caller(email)
            )
            assert list(granted.permissions) == expected
        publisher.stop()
        subscriber.close()
