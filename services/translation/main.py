"""functions-framework targets for the translation service.

    functions-framework --source services/translation/main.py --target translation
    functions-framework --source services/translation/main.py --target translation_events

The app is built on the first request, not at import; Apertium and lingua start on first use.
"""

from __future__ import annotations

import functools

import flask
import functions_framework

from services.translation import workflow
from services.translation.app import create_app
from shared.app import serve


@functools.cache
def _app() -> flask.Flask:
    return create_app()


@functions_framework.http
def translation(request: flask.Request) -> flask.Response:
    """Translation v3's REST paths, `/events` for Pub/Sub push, and `/health`."""
    return serve(_app(), request)


@functions_framework.http
def translation_events(request: flask.Request) -> flask.Response:
    """Any path: one text-ready event (Pub/Sub push or CloudEvent)."""
    return serve(_app(), request, path=workflow.EVENTS_ROUTE)
