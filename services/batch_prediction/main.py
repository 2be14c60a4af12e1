"""functions-framework targets for the batch prediction service.

    functions-framework --source services/batch_prediction/main.py --target batch_prediction
    functions-framework --source services/batch_prediction/main.py --target batch_prediction_events

The app is built on the first request, not at import, so the process is ready at once.
"""

from __future__ import annotations

import functools

import flask
import functions_framework

from services.batch_prediction import workflow
from services.batch_prediction.app import create_app
from shared.app import serve


@functools.cache
def _app() -> flask.Flask:
    return create_app()


@functions_framework.http
def batch_prediction(request: flask.Request) -> flask.Response:
    """Vertex AI's batchPredictionJobs REST paths, `/events` for Pub/Sub push, and `/health`."""
    return serve(_app(), request)


@functions_framework.http
def batch_prediction_events(request: flask.Request) -> flask.Response:
    """Any path: one event (a job request message, or an input file finalized)."""
    return serve(_app(), request, path=workflow.EVENTS_ROUTE)
