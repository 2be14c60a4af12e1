"""`create_app()`: the prediction service as a Flask app (Vertex AI REST surface, the
custom-container routes, metrics, health)."""

from __future__ import annotations

import dataclasses
import logging

import flask

from services.prediction import routes
from services.prediction.adaptive import InFlight
from services.prediction.backends import PredictionBackend, create_backend
from services.prediction.metrics import Metrics
from services.prediction.settings import PredictionSettings
from shared.app import create_service_app
from shared.errors import ApiError

SERVICE = "prediction"
log = logging.getLogger(__name__)


@dataclasses.dataclass
class PredictionContext:
    """What the routes share, built once per app."""

    settings: PredictionSettings
    backend: PredictionBackend
    metrics: Metrics
    inflight: InFlight


def create_app(
    settings: PredictionSettings | None = None,
    *,
    backend: PredictionBackend | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    settings = settings or PredictionSettings.from_env(SERVICE)
    metrics = Metrics()
    inflight = InFlight()
    if backend is None:
        backend = create_backend(settings, metrics=metrics, inflight=inflight)
    app = create_service_app(SERVICE, settings)
    if not settings.access_log:
        # shared.app logs each request at INFO; Cloud Run logs every request already.
        logging.getLogger("shared.app").setLevel(logging.WARNING)
    app.extensions[SERVICE] = PredictionContext(settings, backend, metrics, inflight)
    app.register_blueprint(routes.blueprint(settings))
    _preload(settings, backend)
    return app


def _preload(settings: PredictionSettings, backend: PredictionBackend) -> None:
    """Load the `PRELOAD` endpoints now; a failure is logged, the service still starts."""
    deployments = getattr(backend, "deployments", None)
    if deployments is None or not settings.preload:
        return
    endpoints = list(settings.preload)
    if "*" in endpoints:
        try:
            endpoints = deployments.registry.models()
        except ApiError as error:
            log.error("preload: cannot list models", extra={"json_fields": {"error": str(error)}})
            return
    for endpoint in endpoints:
        try:
            deployments.get(endpoint, watch=False)
        except ApiError as error:
            log.error(
                "preload failed", extra={"json_fields": {"endpoint": endpoint, "error": str(error)}}
            )
