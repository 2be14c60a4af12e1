"""`create_app()`: the batch prediction service as a Flask app (job API, event route, health).

The service's backend (in `shared.service` terms) is its `Jobs`: the job records, the models,
the jobs' files and the engines behind them (see `jobs` and `backends`).
"""

from __future__ import annotations

import functools

import flask

from services.batch_prediction import routes, workflow
from services.batch_prediction.jobs import Jobs
from services.batch_prediction.settings import BatchPredictionSettings
from shared.pubsub import Publisher, PubSubPublisher
from shared.service import build_app
from shared.storage import Storage

SERVICE = "batch_prediction"


def create_app(
    settings: BatchPredictionSettings | None = None,
    *,
    backend: Jobs | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    # The jobs publish their completion messages themselves (REST-created jobs end outside any
    # request), so they are made with the app's publisher.
    publisher = publisher or PubSubPublisher()
    app = build_app(
        SERVICE,
        settings or BatchPredictionSettings.from_env(SERVICE),
        backend_factory=functools.partial(Jobs, publisher=publisher),
        blueprint=routes.blueprint(),
        handle_event=workflow.handle,
        backend=backend,
        storage=storage,
        publisher=publisher,
    )
    app.extensions[SERVICE].backend.start()  # resumes orphaned jobs from now on
    return app
