"""What ModelService's and EndpointService's routes share: the API versions, JSON bodies and
answers, list paging and the small `filter` language of their list methods."""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

import flask
import orjson

from shared import jsonbody, protocheck
from shared.errors import invalid_argument, not_found

API_VERSIONS = ("v1", "v1beta1")
LOCATION = "/<api>/projects/<project>/locations/<location>"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_TERM = re.compile(
    r'^\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>!=|=|:)\s*(?P<value>"[^"]*"|[^\s"]+)\s*$'
)


def check_api(api: str) -> None:
    if api not in API_VERSIONS:
        raise not_found("The requested URL was not found on this server.")


def body(message: str) -> dict[str, Any]:
    """The JSON body, checked field by field against Vertex AI's own message for it
    (`"model_service.UploadModelRequest"`, `"endpoint.Endpoint"`): Google's "Invalid value at
    'model.artifact_uri' (TYPE_STRING)" or "Unknown name" for what the real service refuses, so
    no malformed value reaches a handler."""
    payload = jsonbody.object_body(flask.request.get_data())
    protocheck.check(payload, _descriptor(message))
    return payload


@functools.cache
def _descriptor(message: str) -> Any:
    # Imported on the first ModelService/EndpointService call only (~1 s, ~70 MB): online
    # prediction, which never needs them, does not pay for them.
    module, _, name = message.partition(".")
    types = importlib.import_module(f"google.cloud.aiplatform_v1.types.{module}")
    return getattr(types, name).pb().DESCRIPTOR


def respond(data: dict[str, Any]) -> flask.Response:
    return flask.Response(orjson.dumps(data), mimetype="application/json")


def page(items: list[dict[str, Any]], key: Callable[[dict[str, Any]], str], field: str):
    """One page of `items` (already in order) by `pageSize` / `pageToken` (the last key of the
    previous page), as `{field: [...], "nextPageToken"?}`."""
    args = flask.request.args
    raw_size = args.get("pageSize") or args.get("page_size") or DEFAULT_PAGE_SIZE
    try:
        size = int(raw_size)
    except ValueError:
        raise invalid_argument(f"pageSize must be an integer, got {raw_size!r}.") from None
    if size < 0:
        raise invalid_argument("pageSize must not be negative.")
    size = min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    token = args.get("pageToken") or args.get("page_token") or ""
    if token:
        keys = [key(item) for item in items]
        if token not in keys:
            raise invalid_argument(f"Invalid pageToken {token!r}.")
        items = items[keys.index(token) + 1 :]
    shown: dict[str, Any] = {field: items[:size]} if items[:size] else {}
    if len(items) > size:
        shown["nextPageToken"] = key(items[size - 1])
    return shown


def matcher(text: str, fields: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """A list `filter`: terms joined by AND, each `field=value`, `field!=value`,
    `labels.key=value` or `labels.key:*` / `labels:key`; `fields` maps the names a caller may
    use (snake_case and camelCase) to JSON fields. Anything else is INVALID_ARGUMENT."""
    if not text.strip():
        return lambda _resource: True
    tests = []
    for term in re.split(r"\s+AND\s+", text.strip()):
        match = _TERM.match(term)
        if not match:
            raise invalid_argument(f"Unsupported filter {text!r}: cannot parse {term!r}.")
        field, op, value = match["field"], match["op"], match["value"].strip('"')
        tests.append(_test(field, op, value, fields, text))
    return lambda resource: all(test(resource) for test in tests)


def _test(field: str, op: str, value: str, fields: dict[str, str], text: str):
    if field == "labels" and op == ":":
        return lambda resource: value in (resource.get("labels") or {})
    if field.startswith("labels."):
        label = field.removeprefix("labels.").strip('"')
        if op == ":" and value == "*":
            return lambda resource: label in (resource.get("labels") or {})
        if op in ("=", "!="):
            want = op == "="
            return lambda resource: ((resource.get("labels") or {}).get(label) == value) == want
    if field in fields and op in ("=", "!="):
        target, want = fields[field], op == "="
        return lambda resource: (str(resource.get(target, "")) == value) == want
    raise invalid_argument(
        f"Unsupported filter {text!r}: filter on {sorted(set(fields) | {'labels'})} "
        "with =, != (labels also with :)."
    )
