"""`create_app()`: the vision service as a Flask app (REST surface, event route, health)."""

from __future__ import annotations

import dataclasses

import flask

from services.vision import routes, workflow
from services.vision.backends import VisionBackend, create_backend
from services.vision.settings import VisionSettings
from shared.app import create_service_app
from shared.pubsub import Publisher, PubSubPublisher
from shared.storage import Storage

SERVICE = "vision"


@dataclasses.dataclass
class VisionContext:
    """What the routes and the workflow share, built once per app."""

    settings: VisionSettings
    storage: Storage
    backend: VisionBackend
    publisher: Publisher


def create_app(
    settings: VisionSettings | None = None,
    *,
    backend: VisionBackend | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    settings = settings or VisionSettings.from_env(SERVICE)
    storage = storage or Storage(settings.google_cloud_project)
    context = VisionContext(
        settings=settings,
        storage=storage,
        backend=backend or create_backend(settings, storage),
        publisher=publisher or PubSubPublisher(),
    )
    app = create_service_app(SERVICE, settings)
    app.extensions[SERVICE] = context
    app.register_blueprint(routes.blueprint())
    app.add_url_rule(workflow.EVENTS_ROUTE, "events", workflow.event_route, methods=["POST"])
    return app
