"""Cloud Vision v1's REST surface: the same paths and JSON as vision.googleapis.com.

    POST /v1/images:annotate                          BatchAnnotateImages
    POST /v1/files:annotate                           BatchAnnotateFiles
    POST /v1/projects/{p}/images:annotate             (and files:annotate)
    POST /v1/projects/{p}/locations/{l}/images:annotate  (and files:annotate)

Whole-request problems (bad JSON, bad base64, more than 16 images or 5 files) are 400 with
Google's error JSON; a problem with one image goes in that image's `error` with HTTP 200.
"""

from __future__ import annotations

from typing import TypeVar

import flask

from shared import protojson
from shared.app import json_body, proto_response
from shared.errors import invalid_argument
from shared.gapictypes import message_types
from shared.service import context_of

vision = message_types("google.cloud.vision_v1")

R = TypeVar("R", vision.BatchAnnotateImagesRequest, vision.BatchAnnotateFilesRequest)

MAX_IMAGES_PER_REQUEST = 16
MAX_FILES_PER_REQUEST = 5

_PREFIXES = ("/v1", "/v1/projects/<project>", "/v1/projects/<project>/locations/<location>")


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("vision_api", __name__)
    for prefix in _PREFIXES:
        bp.add_url_rule(
            f"{prefix}/images:annotate",
            view_func=annotate_images,
            methods=["POST"],
            endpoint=f"images{prefix}",
        )
        bp.add_url_rule(
            f"{prefix}/files:annotate",
            view_func=annotate_files,
            methods=["POST"],
            endpoint=f"files{prefix}",
        )
    return bp


def _backend():
    return context_of("vision").backend


def annotate_images(**_path: str) -> flask.Response:
    request = _batch(vision.BatchAnnotateImagesRequest, MAX_IMAGES_PER_REQUEST, "images")
    return proto_response(_backend().annotate_images(request))


def annotate_files(**_path: str) -> flask.Response:
    request = _batch(vision.BatchAnnotateFilesRequest, MAX_FILES_PER_REQUEST, "files")
    return proto_response(_backend().annotate_files(request))


def _batch(request_type: type[R], limit: int, noun: str) -> R:
    """The request body, with 1 to `limit` requests in it."""
    request = protojson.parse(request_type, json_body())
    if not request.requests:
        raise invalid_argument("No requests specified.")
    if len(request.requests) > limit:
        raise invalid_argument(
            f"Too many {noun} per request: {len(request.requests)}; the limit is {limit}. "
            "Split the batch."
        )
    return request
