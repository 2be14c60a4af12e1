"""Event decoding: every real delivery shape, as golden input/output pairs, plus the refusals."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import pytest

from shared import events

FIXTURES = Path(__file__).parent / "events"
CASES = sorted(p.name.removesuffix("-input.json") for p in FIXTURES.glob("*-input.json"))


def _load(name: str) -> tuple[dict, bytes, dict]:
    raw = json.loads((FIXTURES / f"{name}-input.json").read_text())
    body = b"" if raw["body"] is None else json.dumps(raw["body"]).encode()
    expected = json.loads((FIXTURES / f"{name}-output.json").read_text())
    return raw["headers"], body, expected


def _describe(event: events.Event) -> dict:
    described = dataclasses.asdict(event)
    described.pop("data")
    if event.message is not None:
        message = described["message"]
        message["data_length"] = len(message.pop("data"))
    return described


@pytest.mark.parametrize("name", CASES)
def test_decodes_every_delivery_shape(name):
    headers, body, expected = _load(name)
    assert _describe(events.decode(headers, body)) == expected


def test_there_is_a_golden_pair_for_each_shape():
    assert len(CASES) >= 6


def test_message_data_is_decoded_bytes():
    headers, body, _ = _load("pubsub-push-storage-notification")
    event = events.decode(headers, body)
    assert json.loads(event.message.data)["name"] == "photos/receipt.png"


def _push(message: dict, **extra) -> bytes:
    return json.dumps(
        {"message": message, "subscription": "projects/p/subscriptions/s", **extra}
    ).encode()


def test_plain_message_is_not_a_storage_event():
    body = _push(
        {"data": base64.b64encode(b"hello").decode(), "messageId": "1", "attributes": {"k": "v"}}
    )
    event = events.decode({"Content-Type": "application/json"}, body)
    assert event.storage_object is None
    assert event.message.data == b"hello"
    assert event.message.attributes == {"k": "v"}


def test_int64_fields_accept_strings_and_numbers():
    for generation in ("123", 123, 123.0):
        event = events.decode(
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "s",
                "ce-type": "google.cloud.storage.object.v1.finalized",
            },
            json.dumps({"bucket": "b", "name": "n", "generation": generation}).encode(),
        )
        assert event.storage_object.generation == 123


@pytest.mark.parametrize(
    ("headers", "body", "complaint"),
    [
        ({}, b"not json", "not valid JSON"),
        ({}, b"[]", "JSON object"),
        ({}, b'{"hello": 1}', "not an event"),
        ({}, _push({"data": "aGk="}), "messageId"),
        ({}, _push({"data": "%%%", "messageId": "1"}), "base64"),
        ({}, _push({"messageId": "1", "attributes": {"k": 1}}), "attributes"),
        (
            {},
            _push(
                {
                    "messageId": "1",
                    "attributes": {
                        "eventType": "OBJECT_FINALIZE",
                        "bucketId": "b",
                        "objectId": "o",
                    },
                    "data": "bm90IGpzb24=",
                }
            ),
            "payload",
        ),
        ({"ce-specversion": "1.0", "ce-type": "t"}, b"{}", "`id`"),
        (
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "s",
                "ce-type": "google.cloud.storage.object.v1.finalized",
            },
            b'{"name": "n"}',
            "bucket",
        ),
        (
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "s",
                "ce-type": "google.cloud.storage.object.v1.exploded",
            },
            b"{}",
            "unknown",
        ),
        (
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "s",
                "ce-type": "google.cloud.storage.object.v1.finalized",
            },
            b'{"bucket": "b", "name": "n", "generation": "12x"}',
            "integer",
        ),
    ],
)
def test_refuses_what_is_not_an_event(headers, body, complaint):
    with pytest.raises(events.EventDecodeError, match=complaint):
        events.decode(headers, body)
