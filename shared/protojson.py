"""proto-plus messages to and from Google's REST JSON.

Google's REST surface speaks proto3 JSON: lowerCamelCase names, default values left out, int64
as strings, bytes as base64, enums as names unless the client asked for numbers with
`$alt=json;enum-encoding=int` (the official REST clients always do).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import proto
from google.protobuf import json_format

from shared import jsonbody, protocheck
from shared.errors import invalid_argument

M = TypeVar("M", bound=proto.Message)


def parse(message_type: type[M], payload: bytes | str | dict[str, Any]) -> M:
    """Parse a request body into `message_type`; any defect is INVALID_ARGUMENT in Google's
    words, naming the field (`shared.protocheck`). Unknown fields are rejected, as Google does."""
    if isinstance(payload, bytes | str):
        payload = jsonbody.object_body(payload)
    elif not isinstance(payload, dict):
        raise invalid_argument(f"{jsonbody.INVALID} Expected a JSON object.")
    pb = message_type.pb()()
    protocheck.check(payload, pb.DESCRIPTOR)
    try:
        json_format.ParseDict(payload, pb, ignore_unknown_fields=False)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise invalid_argument(f"{jsonbody.INVALID} {exc}") from None
    return message_type.wrap(pb)


def to_dict(message: proto.Message, *, enums_as_ints: bool = False) -> dict[str, Any]:
    """Google's REST JSON for `message` as a dict."""
    pb = type(message).pb(message)
    return json_format.MessageToDict(pb, use_integers_for_enums=enums_as_ints)


def to_json(message: proto.Message, *, enums_as_ints: bool = False) -> str:
    return json.dumps(to_dict(message, enums_as_ints=enums_as_ints), separators=(",", ":"))
