"""Schemas through google-cloud-pubsub: Avro and protocol buffer, JSON and binary encodings,
validation at publish with the schema attributes on delivered messages, and revisions."""

from __future__ import annotations

import io
import json

import fastavro
import pytest
from google.api_core import exceptions
from google.pubsub_v1.types import Encoding, Schema

from tests.local.pubsub.conftest import PROJECT, pull_until

PARENT = f"projects/{PROJECT}"

AVRO_ORDER = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
PROTO_ORDER = """
syntax = "proto3";
package shop;
message Order {
  string id = 1;
  int32 qty = 2;
  repeated string tags = 3;
  message Line { string sku = 1; }
  Line line = 4;
}
"""


def _avro_binary(record: dict) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(AVRO_ORDER), record)
    return buffer.getvalue()


GOOD_AVRO = _avro_binary({"id": "a1", "qty": 3, "note": None})
# Field 1 (id) "a1", field 2 (qty) 3, field 4 (line) with sku "k": the protobuf wire format.
GOOD_PROTO = b"\x0a\x02a1\x10\x03\x22\x03\x0a\x01k"

CASES = {
    ("AVRO", "JSON"): (
        [
            b'{"id": "a1", "qty": 3, "note": null}',
            b'{"id": "a2", "qty": -7, "note": {"string": "rush"}}',
        ],
        [
            b'{"id": "a1"}',  # qty missing, and it has no default
            b'{"id": 1, "qty": 2, "note": null}',  # id is not a string
            b'{"id": "a", "qty": 2.5, "note": null}',  # qty is not an int
            b'{"id": "a", "qty": 2, "note": "bare"}',  # a union value must name its branch
            b"not json",
        ],
    ),
    ("AVRO", "BINARY"): (
        [GOOD_AVRO, _avro_binary({"id": "", "qty": 0, "note": "x" * 300})],
        [GOOD_AVRO[:-1], GOOD_AVRO + b"\x00", b"", b'{"id": "a1", "qty": 3, "note": null}'],
    ),
    ("PROTOCOL_BUFFER", "JSON"): (
        [b'{"id": "a1", "qty": 3}', b'{"tags": ["x", "y"], "line": {"sku": "k"}}', b"{}"],
        [b'{"id": "a1", "price": 2}', b'{"qty": "many"}', b"[1, 2]", b'{"line": 5}', b"nope"],
    ),
    ("PROTOCOL_BUFFER", "BINARY"): (
        [GOOD_PROTO, b"\x1a\x01x\x1a\x01y", b""],
        [b"\x0a\x05a1", b"\xff\xff\xff\xff", GOOD_PROTO[:-1], b"\x0a"],
    ),
}


def _create(schema_client, names, kind: str, definition: str | None = None) -> str:
    schema_id = f"{kind.lower().replace('_', '-')}-{names.tag}"
    if definition is None:
        definition = json.dumps(AVRO_ORDER) if kind == "AVRO" else PROTO_ORDER
    created = schema_client.create_schema(
        parent=PARENT,
        schema=Schema(type_=Schema.Type[kind], definition=definition),
        schema_id=schema_id,
    )
    assert created.name == f"{PARENT}/schemas/{schema_id}"
    assert len(created.revision_id) == 8
    return created.name


@pytest.mark.parametrize(("kind", "encoding"), sorted(CASES))
def test_publish_accepts_good_and_rejects_bad_messages(
    publisher, subscriber, schema_client, names, kind, encoding
):
    schema = _create(schema_client, names, kind)
    topic, sub = names.topic(), names.sub()
    publisher.create_topic(
        request={
            "name": topic,
            "schema_settings": {"schema": schema, "encoding": Encoding[encoding]},
        }
    )
    subscriber.create_subscription(name=sub, topic=topic)
    good, bad = CASES[(kind, encoding)]
    for data in bad:
        with pytest.raises(exceptions.InvalidArgument, match="schema validation"):
            publisher.publish(topic, data, source="test").result(timeout=10)
        with pytest.raises(exceptions.InvalidArgument, match="Invalid data in message"):
            schema_client.validate_message(
                request={
                    "parent": PARENT,
                    "name": schema,
                    "message": data,
                    "encoding": Encoding[encoding],
                }
            )
    for data in good:
        if data:  # an empty message cannot be published (no data, no attributes)
            publisher.publish(topic, data).result(timeout=10)
        schema_client.validate_message(
            request={"parent": PARENT, "name": schema, "message": data, "encoding": encoding}
        )
    expected = [d for d in good if d]
    got = pull_until(subscriber, sub, len(expected))
    assert sorted(m.message.data for m in got) == sorted(expected)
    revision = schema_client.get_schema(name=schema).revision_id
    for message in got:
        assert dict(message.message.attributes) == {
            "googclient_schemaname": schema,
            "googclient_schemaencoding": encoding,
            "googclient_schemarevisionid": revision,
        }
    leftover = subscriber.pull(
        request={"subscription": sub, "max_messages": 10, "return_immediately": True}
    )
    assert not leftover.received_messages  # none of the bad ones slipped through


def test_revisions_and_revision_ranges(publisher, schema_client, names):
    v1 = {"type": "record", "name": "R", "fields": [{"name": "qty", "type": "int"}]}
    v2 = {"type": "record", "name": "R", "fields": [{"name": "color", "type": "string"}]}
    schema = _create(schema_client, names, "AVRO", json.dumps(v1))
    rev1 = schema_client.get_schema(name=schema).revision_id
    rev2 = schema_client.commit_schema(
        name=schema, schema=Schema(name=schema, type_=Schema.Type.AVRO, definition=json.dumps(v2))
    ).revision_id
    listed = list(schema_client.list_schema_revisions(request={"name": schema, "view": "FULL"}))
    assert [s.revision_id for s in listed] == [rev2, rev1]  # newest first
    assert json.loads(schema_client.get_schema(name=f"{schema}@{rev1}").definition) == v1
    basic = schema_client.get_schema(request={"name": schema, "view": "BASIC"})
    assert basic.definition == ""
    assert basic.revision_id == rev2

    old, new = b'{"qty": 1}', b'{"color": "red"}'
    both, latest = names.topic("both"), names.topic("latest")
    settings = {"schema": schema, "encoding": Encoding.JSON}
    publisher.create_topic(
        request={
            "name": both,
            "schema_settings": {**settings, "first_revision_id": rev1, "last_revision_id": rev2},
        }
    )
    publisher.create_topic(
        request={"name": latest, "schema_settings": {**settings, "first_revision_id": rev2}}
    )
    publisher.publish(both, old).result(timeout=10)
    publisher.publish(both, new).result(timeout=10)
    publisher.publish(latest, new).result(timeout=10)
    with pytest.raises(exceptions.InvalidArgument):
        publisher.publish(latest, old).result(timeout=10)

    rev3 = schema_client.rollback_schema(name=schema, revision_id=rev1)
    assert json.loads(rev3.definition) == v1
    assert rev3.revision_id not in (rev1, rev2)
    deleted = schema_client.delete_schema_revision(name=f"{schema}@{rev2}")
    assert deleted.revision_id == rev2
    remaining = schema_client.list_schema_revisions(request={"name": schema})
    assert [s.revision_id for s in remaining] == [rev3.revision_id, rev1]
    with pytest.raises(exceptions.NotFound):
        schema_client.get_schema(name=f"{schema}@{rev2}")

    schema_client.delete_schema(name=schema)
    assert publisher.get_topic(topic=both).schema_settings.schema == "_deleted-schema_"
    with pytest.raises(exceptions.FailedPrecondition):
        publisher.publish(both, old).result(timeout=10)


def test_schema_service_errors_and_listing(publisher, schema_client, names):
    schema = _create(schema_client, names, "PROTOCOL_BUFFER")
    with pytest.raises(exceptions.AlreadyExists):
        _create(schema_client, names, "PROTOCOL_BUFFER")
    assert schema in [s.name for s in schema_client.list_schemas(parent=PARENT)]
    with pytest.raises(exceptions.NotFound):
        schema_client.get_schema(name=f"{PARENT}/schemas/missing-{names.tag}")
    for kind, definition in [
        ("PROTOCOL_BUFFER", "message A { strin x = 1; }"),
        ("PROTOCOL_BUFFER", 'syntax = "proto3"; message A {} message B {}'),
        ("PROTOCOL_BUFFER", 'syntax = "proto3"; import "other.proto"; message A {}'),
        ("AVRO", '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "strin"}]}'),
        ("AVRO", "{not json"),
    ]:
        bad = Schema(type_=Schema.Type[kind], definition=definition)
        with pytest.raises(exceptions.InvalidArgument, match="Invalid schema definition"):
            schema_client.validate_schema(parent=PARENT, schema=bad)
        with pytest.raises(exceptions.InvalidArgument):
            schema_client.create_schema(parent=PARENT, schema=bad, schema_id=f"bad-{names.tag}")
    good = Schema(type_=Schema.Type.AVRO, definition=json.dumps(AVRO_ORDER))
    schema_client.validate_schema(parent=PARENT, schema=good)
    with pytest.raises(exceptions.NotFound):
        publisher.create_topic(
            request={
                "name": names.topic(),
                "schema_settings": {"schema": f"{PARENT}/schemas/none-{names.tag}"},
            }
        )
