"""Cloud Vision v1's REST surface: the same paths and JSON as vision.googleapis.com.

    POST /v1/images:annotate                          BatchAnnotateImages
    POST /v1/files:annotate                           BatchAnnotateFiles
    POST /v1/projects/{p}/images:annotate             (and files:annotate)
    POST /v1/projects/{p}/locations/{l}/images:annotate  (and files:annotate)

Whole-request problems (bad JSON, bad base64, more than 16 images or 5 files) are 400 with
Google's error JSON; a problem with one image goes in that image's `error` with HTTP 200.
"""

from __future__ import annotations

import flask
from google.cloud import vision

from shared import protojson
from shared.app import json_body, proto_response
from shared.errors import invalid_argument
from shared.service import context_of

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
    request = protojson.parse(vision.BatchAnnotateImagesRequest, json_body())
    if not request.requests:
        raise invalid_argument("No requests specified.")
    if len(request.requests) > MAX_IMAGES_PER_REQUEST:
        raise invalid_argument(
            f"Too many images per request: {len(request.requests)}; the limit is "
            f"{MAX_IMAGES_PER_REQUEST}. Split the batch."
        )
    return proto_response(_backend().annotate_images(request))


def annotate_files(**_path: str) -> flask.Response:
    request = protojson.parse(vision.BatchAnnotateFilesRequest, json_body())
    if not request.requests:
        raise invalid_argument("No requests specified.")
    if len(request.requests) > MAX_FILES_PER_REQUEST:
        raise invalid_argument(
            f"Too many files per request: {len(request.requests)}; the limit is "
            f"{MAX_FILES_PER_REQUEST}."
        )
    return proto_response(_backend().annotate_files(request))
