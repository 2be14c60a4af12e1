"""Cloud Translation v3's REST surface: the same paths and JSON as translate.googleapis.com.

    POST /v3/projects/{p}/locations/{l}:translateText     TranslateText
    POST /v3/projects/{p}/locations/{l}:detectLanguage    DetectLanguage
    GET  /v3/projects/{p}/locations/{l}/supportedLanguages?displayLanguageCode=..&model=..
    ... and the same three under /v3/projects/{p} (no location).

What does not depend on who answers is checked here: 1 to 1,024 `contents`, a
`targetLanguageCode`, `mimeType` text/plain or text/html, a `content` to detect. Each failure is
400 INVALID_ARGUMENT in Google's error JSON.
"""

from __future__ import annotations

import flask

from shared import protojson
from shared.app import json_body, proto_response
from shared.errors import echo, invalid_argument
from shared.gapictypes import message_types
from shared.service import context_of

translate = message_types("google.cloud.translate_v3")

MAX_CONTENTS = 1024
MIME_TYPES = ("text/plain", "text/html")

_PARENTS = ("/v3/projects/<project>", "/v3/projects/<project>/locations/<location>")


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("translation_api", __name__)
    for prefix in _PARENTS:
        for suffix, view, method in (
            (":translateText", translate_text, "POST"),
            (":detectLanguage", detect_language, "POST"),
            ("/supportedLanguages", supported_languages, "GET"),
        ):
            bp.add_url_rule(
                prefix + suffix,
                view_func=view,
                methods=[method],
                endpoint=f"{view.__name__}{prefix}",
            )
    return bp


def _backend():
    return context_of("translation").backend


def _parent(project: str, location: str | None) -> str:
    return f"projects/{project}" + (f"/locations/{location}" if location else "")


def translate_text(project: str, location: str | None = None) -> flask.Response:
    request = protojson.parse(translate.TranslateTextRequest, json_body())
    request.parent = _parent(project, location)
    if not request.contents:
        raise invalid_argument("contents is required: give 1 to 1024 strings to translate.")
    if len(request.contents) > MAX_CONTENTS:
        raise invalid_argument(
            f"Too many contents: {len(request.contents)} strings; the limit is {MAX_CONTENTS} "
            "a request. Split the batch."
        )
    if not request.target_language_code:
        raise invalid_argument("targetLanguageCode is required.")
    _check_mime_type(request)
    return proto_response(_backend().translate_text(request))


def detect_language(project: str, location: str | None = None) -> flask.Response:
    request = protojson.parse(translate.DetectLanguageRequest, json_body())
    request.parent = _parent(project, location)
    if not request.content:
        raise invalid_argument("content is required: give the text to detect.")
    _check_mime_type(request)
    return proto_response(_backend().detect_language(request))


def supported_languages(project: str, location: str | None = None) -> flask.Response:
    args = flask.request.args
    request = translate.GetSupportedLanguagesRequest(
        parent=_parent(project, location),
        display_language_code=args.get("displayLanguageCode")
        or args.get("display_language_code", ""),
        model=args.get("model", ""),
    )
    return proto_response(_backend().get_supported_languages(request))


def _check_mime_type(request) -> None:
    if request.mime_type and request.mime_type not in MIME_TYPES:
        raise invalid_argument(
            f"Unsupported mimeType {echo(request.mime_type)}; use text/plain or text/html."
        )
