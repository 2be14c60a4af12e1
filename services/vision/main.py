"""functions-framework targets for the vision service.

    functions-framework --source services/vision/main.py --target vision         # REST + /events
    functions-framework --source services/vision/main.py --target vision_events  # events only

The app is built on the first request, not at import, so the process is ready at once.
"""

from __future__ import annotations

import functools

import flask
import functions_framework

from services.vision import workflow
from services.vision.app import create_app
from shared.app import serve


@functools.cache
def _app() -> flask.Flask:
    return create_app()


@functions_framework.http
def vision(request: flask.Request) -> flask.Response:
    """Cloud Vision's REST paths, `/events` for Pub/Sub push and Eventarc, and `/health`."""
    return serve(_app(), request)


@functions_framework.http
def vision_events(request: flask.Request) -> flask.Response:
    """Any path: one event (Pub/Sub push or CloudEvent) about an image object."""
    return serve(_app(), request, path=workflow.EVENTS_ROUTE)
