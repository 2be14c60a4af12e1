"""functions-framework target for the prediction service.

    functions-framework --source services/prediction/main.py --target prediction

The app is built on the first request, not at import, so the process is ready at once; with
`PREDICTION_PRELOAD` set it is built at import instead, so models load before the first
request (and, under gunicorn with several workers, once in the parent before the fork).
"""

from __future__ import annotations

import functools
import os

import flask
import functions_framework

from services.prediction.app import create_app
from shared.app import serve


@functools.cache
def _app() -> flask.Flask:
    return create_app()


@functions_framework.http
def prediction(request: flask.Request) -> flask.Response:
    """Vertex AI's prediction paths, the custom-container routes, `/metrics` and `/health`."""
    return serve(_app(), request)


def app(environ, start_response):
    """The same app as a plain WSGI callable, for `gunicorn services.prediction.main:app`:
    one Flask dispatch per request instead of functions-framework's plus ours."""
    return _app()(environ, start_response)


if any(os.environ.get(name) for name in ("PREDICTION_PRELOAD", "PRELOAD", "AIP_STORAGE_URI")):
    _app()
