"""The REST/JSON surface with plain HTTP, on the same port as gRPC."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import pubsub_v1
from google.pubsub_v1.types import Schema


@pytest.fixture
def call(pubsub_emulator):
    def call(method: str, path: str, body=None, raw: bytes | None = None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(
            f"http://{pubsub_emulator}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    return call


def test_health(pubsub_emulator):
    with urllib.request.urlopen(f"http://{pubsub_emulator}/", timeout=5) as response:
        assert response.read().strip() == b"Ok"


def test_rest_round_trip(call, names):
    topic, sub = names.topic(), names.sub()
    status, body = call("PUT", f"/v1/{topic}", {"labels": {"k": "v"}})
    assert (status, body) == (200, {"name": topic, "labels": {"k": "v"}})
    status, body = call("PUT", f"/v1/{topic}")
    assert status == 409
    assert body["error"]["status"] == "ALREADY_EXISTS"
    assert body["error"]["code"] == 409
    assert call("GET", f"/v1/{topic}")[1]["name"] == topic
    project = topic.rsplit("/topics/", 1)[0]
    listed = call("GET", f"/v1/{project}/topics?pageSize=1000")[1]["topics"]
    assert topic in [t["name"] for t in listed]
    status, body = call(
        "PATCH", f"/v1/{topic}", {"topic": {"labels": {"k": "w"}}, "updateMask": "labels"}
    )
    assert (status, body["labels"]) == (200, {"k": "w"})

    status, body = call("PUT", f"/v1/{sub}", {"topic": topic, "ackDeadlineSeconds": 20})
    assert status == 200
    assert body["ackDeadlineSeconds"] == 20
    assert body["state"] == "ACTIVE"
    assert call("GET", f"/v1/{topic}/subscriptions")[1] == {"subscriptions": [sub]}

    payload = bytes(range(256))
    status, body = call(
        "POST",
        f"/v1/{topic}:publish",
        {
            "messages": [
                {"data": base64.b64encode(payload).decode(), "attributes": {"a": "1"}},
                {"attributes": {"only": "attrs"}},
            ]
        },
    )
    assert status == 200
    assert len(body["messageIds"]) == 2

    status, body = call("POST", f"/v1/{sub}:pull", {"maxMessages": 10})
    received = body["receivedMessages"]
    assert len(received) == 2
    first = received[0]
    assert base64.b64decode(first["message"]["data"]) == payload
    assert first["message"]["attributes"] == {"a": "1"}
    assert first["message"]["publishTime"].endswith("Z")
    assert call(
        "POST",
        f"/v1/{sub}:modifyAckDeadline",
        {"ackIds": [first["ackId"]], "ackDeadlineSeconds": 0},
    ) == (200, {})
    assert call("POST", f"/v1/{sub}:acknowledge", {"ackIds": [received[1]["ackId"]]}) == (200, {})
    status, body = call("POST", f"/v1/{sub}:pull", {"maxMessages": 10})
    [again] = body["receivedMessages"]
    assert again["message"]["messageId"] == first["message"]["messageId"]
    call("POST", f"/v1/{sub}:acknowledge", {"ackIds": [again["ackId"]]})
    status, body = call("POST", f"/v1/{sub}:pull", {"maxMessages": 10, "returnImmediately": True})
    assert (status, body) == (200, {})

    assert call("DELETE", f"/v1/{sub}") == (200, {})
    assert call("DELETE", f"/v1/{topic}") == (200, {})
    status, body = call("GET", f"/v1/{topic}")
    assert status == 404
    assert body["error"]["status"] == "NOT_FOUND"


def test_rest_errors(call, names):
    topic = names.topic()
    assert call("PUT", "/v1/projects/p/topics/ab")[1]["error"]["status"] == "INVALID_ARGUMENT"
    assert call("PUT", f"/v1/{topic}", raw=b"{not json")[0] == 400
    assert call("PUT", f"/v1/{topic}", {"noSuchField": 1})[0] == 400
    call("PUT", f"/v1/{topic}")
    status, body = call("POST", f"/v1/{topic}:publish", {"messages": [{}]})
    assert status == 400
    assert call("GET", "/v1/nothing/here")[0] == 404
    status, body = call("POST", f"/v1/{names.sub()}:seek", {})
    assert (status, body["error"]["status"]) == (404, "NOT_FOUND")


def test_generated_rest_transport(pubsub_emulator, names):
    """google-cloud-pubsub's own REST transport works against the same port."""
    client = pubsub_v1.PublisherClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": f"http://{pubsub_emulator}"},
    )
    topic = names.topic()
    assert client.create_topic(name=topic).name == topic
    assert client.get_topic(topic=topic).name == topic
    # Over HTTP, api-core maps by status code: 409 is Conflict (AlreadyExists's parent).
    with pytest.raises(exceptions.Conflict):
        client.create_topic(name=topic)
    sub = names.sub()
    subscriber = pubsub_v1.SubscriberClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": f"http://{pubsub_emulator}"},
    )
    created = subscriber.create_subscription(name=sub, topic=topic)
    assert created.state == pubsub_v1.types.Subscription.State.ACTIVE  # enums as numbers
    client.publish(topic, b"over rest").result(timeout=10)
    got = subscriber.pull(subscription=sub, max_messages=1, timeout=10)
    assert got.received_messages[0].message.data == b"over rest"


def test_snapshots_seek_schemas_and_iam_over_the_generated_rest_transports(pubsub_emulator, names):
    rest = {
        "transport": "rest",
        "credentials": AnonymousCredentials(),
        "client_options": {"api_endpoint": f"http://{pubsub_emulator}"},
    }
    publisher = pubsub_v1.PublisherClient(**rest)
    subscriber = pubsub_v1.SubscriberClient(**rest)
    schemas = pubsub_v1.SchemaServiceClient(**rest)
    parent = "projects/test-project"

    schema = schemas.create_schema(
        parent=parent,
        schema={"type_": "AVRO", "definition": json.dumps({"type": "string"})},
        schema_id=f"rest-{names.tag}",
    )
    assert schema.type_ == Schema.Type.AVRO
    assert [s.revision_id for s in schemas.list_schema_revisions(name=schema.name)] == [
        schema.revision_id
    ]
    schemas.validate_message(
        request={"parent": parent, "name": schema.name, "message": b'"ok"', "encoding": "JSON"}
    )
    with pytest.raises(exceptions.BadRequest):
        schemas.validate_message(
            request={"parent": parent, "name": schema.name, "message": b"7", "encoding": "JSON"}
        )

    topic, sub = names.topic(), names.sub()
    publisher.create_topic(
        request={"name": topic, "schema_settings": {"schema": schema.name, "encoding": "JSON"}}
    )
    subscriber.create_subscription(
        request={"name": sub, "topic": topic, "retain_acked_messages": True}
    )
    publisher.publish(topic, b'"first"').result(timeout=10)
    snapshot = subscriber.create_snapshot(
        name=f"{parent}/snapshots/rest-{names.tag}", subscription=sub
    )
    [received] = subscriber.pull(subscription=sub, max_messages=1, timeout=10).received_messages
    assert received.message.attributes["googclient_schemaencoding"] == "JSON"
    subscriber.acknowledge(subscription=sub, ack_ids=[received.ack_id])
    subscriber.seek(request={"subscription": sub, "snapshot": snapshot.name})
    [again] = subscriber.pull(subscription=sub, max_messages=1, timeout=10).received_messages
    assert again.message.data == b'"first"'
    assert [s.name for s in subscriber.list_snapshots(project=parent)].count(snapshot.name) == 1

    policy = publisher.set_iam_policy(
        request={
            "resource": topic,
            "policy": {"bindings": [{"role": "roles/pubsub.viewer", "members": ["allUsers"]}]},
        }
    )
    assert publisher.get_iam_policy(request={"resource": topic}).etag == policy.etag
    granted = subscriber.test_iam_permissions(
        request={"resource": sub, "permissions": ["pubsub.subscriptions.consume"]}
    )
    assert list(granted.permissions) == ["pubsub.subscriptions.consume"]
    schemas.delete_schema(name=schema.name)
