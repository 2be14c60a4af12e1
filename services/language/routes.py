"""Cloud Natural Language's REST surface: the same paths and JSON as language.googleapis.com.

    POST /v1/documents:{analyzeSentiment, analyzeEntities, analyzeEntitySentiment,
                        analyzeSyntax, classifyText, moderateText, annotateText}
    POST /v2/documents:{analyzeSentiment, analyzeEntities, classifyText, moderateText,
                        annotateText}

What does not depend on who answers is checked here, before the backend: a document needs
`content` or `gcsContentUri` (not both), inline content must not be blank nor over
`LANGUAGE_MAX_CONTENT_BYTES` (Google's 1,000,000 bytes), and `encodingType` must be one of
NONE, UTF8, UTF16, UTF32. Each failure is 400 INVALID_ARGUMENT in Google's error JSON.
"""

from __future__ import annotations

import flask
import proto

from services.language.backends.base import RPCS, Rpc
from shared import protojson
from shared.app import json_body, proto_response
from shared.errors import ApiError, Code, invalid_argument
from shared.gapictypes import message_types
from shared.service import context_of

language_v1 = message_types("google.cloud.language_v1")

# EncodingType is the same enum in v1 and v2: NONE, UTF8, UTF16, UTF32.
_ENCODINGS = frozenset(int(member) for member in language_v1.EncodingType)


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("language_api", __name__)
    bp.add_url_rule(
        "/<version>/documents:<verb>", view_func=documents, methods=["POST"], endpoint="documents"
    )
    return bp


def documents(version: str, verb: str) -> flask.Response:
    rpc = RPCS.get(version, {}).get(verb)
    if rpc is None:
        known = ", ".join(f"{v}/documents:{name}" for v, table in RPCS.items() for name in table)
        raise ApiError(
            Code.NOT_FOUND, f"Unknown method {version}/documents:{verb}. Known: {known}."
        )
    request = protojson.parse(rpc.request_type, json_body())
    context = context_of("language")
    validate(rpc, request, context.settings.max_content_bytes)
    return proto_response(context.backend.call(rpc, request))


def validate(rpc: Rpc, request: proto.Message, max_content_bytes: int) -> None:
    """Request checks common to both backends; raise INVALID_ARGUMENT."""
    if "document" not in request:
        raise invalid_argument("document is required: give document.content or gcsContentUri.")
    document = request.document
    if document.content and document.gcs_content_uri:
        raise invalid_argument("Only one of document.content or gcsContentUri may be set.")
    if not document.gcs_content_uri:
        if not document.content.strip():
            raise invalid_argument(
                "The document is empty: document.content or gcsContentUri must be set."
            )
        size = len(document.content.encode("utf-8"))
        if size > max_content_bytes:
            raise invalid_argument(
                f"The document is {size} bytes; the limit is {max_content_bytes} bytes. "
                "Split it into smaller documents."
            )
    if "encoding_type" in rpc.request_type.meta.fields and request.encoding_type not in (
        _ENCODINGS
    ):
        raise invalid_argument(
            f"Invalid value for encodingType: {int(request.encoding_type)}; use one of "
            "NONE, UTF8, UTF16, UTF32."
        )
