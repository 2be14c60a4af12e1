"""`create_app()`: the prediction service as a Flask app (Vertex AI REST surface: prediction,
ModelService and EndpointService over the registry; the custom-container routes, metrics,
health). Online prediction takes no events, and its routes
share two parts more than the other services' (the metrics and the in-flight counter that the
micro-batcher reads), so its context is a `ServiceContext` with those two fields."""

from __future__ import annotations

import dataclasses
import logging

import flask

from services.prediction import endpoint_service, model_service, operations, routes
from services.prediction.adaptive import InFlight
from services.prediction.backends import PredictionBackend, create_backend
from services.prediction.metrics import Metrics
from services.prediction.settings import PredictionSettings
from shared.service import ServiceContext, build_app
from shared.storage import Storage

SERVICE = "prediction"


@dataclasses.dataclass
class PredictionContext(ServiceContext):
    metrics: Metrics = dataclasses.field(default_factory=Metrics)
    inflight: InFlight = dataclasses.field(default_factory=InFlight)


def create_app(
    settings: PredictionSettings | None = None,
    *,
    backend: PredictionBackend | None = None,
    storage: Storage | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    settings = settings or PredictionSettings.from_env(SERVICE)
    storage = storage or Storage(settings.google_cloud_project)
    metrics, inflight = Metrics(), InFlight()
    if backend is None:
        backend = create_backend(settings, storage=storage, metrics=metrics, inflight=inflight)
    if not settings.access_log:
        # shared.app logs each request at INFO; Cloud Run logs every request already.
        logging.getLogger("shared.app").setLevel(logging.WARNING)
    app = build_app(
        SERVICE,
        settings,
        backend_factory=create_backend,
        blueprint=routes.blueprint(settings),
        backend=backend,
        storage=storage,
        context_type=PredictionContext,
        metrics=metrics,
        inflight=inflight,
    )
    # Vertex AI's ModelService and EndpointService over the registry, and their operations.
    for vertex_api in (model_service, endpoint_service, operations):
        app.register_blueprint(vertex_api.blueprint())
    backend.preload(list(settings.preload))
    return app
