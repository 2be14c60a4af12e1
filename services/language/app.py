"""`create_app()`: the language service as a Flask app (REST surface, event route, health)."""

from __future__ import annotations

import dataclasses

import flask

from services.language import routes, workflow
from services.language.backends import LanguageBackend, create_backend
from services.language.settings import LanguageSettings
from shared.app import create_service_app
from shared.pubsub import Publisher, PubSubPublisher
from shared.storage import Storage

SERVICE = "language"


@dataclasses.dataclass
class LanguageContext:
    """What the routes and the workflow share, built once per app."""

    settings: LanguageSettings
    storage: Storage
    backend: LanguageBackend
    publisher: Publisher


def create_app(
    settings: LanguageSettings | None = None,
    *,
    backend: LanguageBackend | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    settings = settings or LanguageSettings.from_env(SERVICE)
    storage = storage or Storage(settings.google_cloud_project)
    context = LanguageContext(
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
