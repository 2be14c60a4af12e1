"""Request bodies as JSON, parsed once at the edge, with Google's error for every defect.

Google's front end answers a body that is not a JSON object with 400 INVALID_ARGUMENT and a
message that starts "Invalid JSON payload received." Every service parses through here (proto
requests through `shared.protojson.parse`, JSON-shaped ones such as Vertex AI's `instances`
through `object_body`), so the answer is the same everywhere.

orjson does the parsing: it is fast (prediction's hot path), and it refuses on its own what
must not reach deeper code: nesting beyond 1,024 levels, lone surrogates, numbers that overflow
a double (`1e400`), NaN and Infinity.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.errors import invalid_argument

INVALID = "Invalid JSON payload received."


def loads(raw: bytes | str) -> Any:
    """The JSON value of `raw` (an empty body is `{}`); INVALID_ARGUMENT when not JSON."""
    try:
        return orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise invalid_argument(f"{INVALID} {exc}.") from None


def object_body(raw: bytes | str, allowed: Iterable[str] | None = None) -> dict[str, Any]:
    """A JSON object; with `allowed`, a field outside it is rejected as Google does."""
    body = loads(raw)
    if not isinstance(body, dict):
        raise invalid_argument(f"{INVALID} Expected a JSON object.")
    if allowed is not None:
        known = frozenset(allowed)
        for key in body:
            if key not in known:
                raise invalid_argument(f'{INVALID} Unknown name "{key}": Cannot find field.')
    return body
