"""functions-framework targets for the language service.

    functions-framework --source services/language/main.py --target language  # REST + /events
    functions-framework --source services/language/main.py --target language_events

The app is built on the first request, not at import; spaCy and lingua load on first use.
"""

from __future__ import annotations

import functools

import flask
import functions_framework

from services.language import workflow
from services.language.app import create_app
from shared.app import serve


@functools.cache
def _app() -> flask.Flask:
    return create_app()


@functions_framework.http
def language(request: flask.Request) -> flask.Response:
    """Natural Language's REST paths (v1, v2), `/events` for Pub/Sub push, and `/health`."""
    return serve(_app(), request)


@functions_framework.http
def language_events(request: flask.Request) -> flask.Response:
    """Any path: one text-ready event (Pub/Sub push or CloudEvent)."""
    return serve(_app(), request, path=workflow.EVENTS_ROUTE)
