"""`create_app()`: the translation service as a Flask app (REST surface, event route, health)."""

from __future__ import annotations

import dataclasses

import flask

from services.translation import routes, workflow
from services.translation.backends import TranslationBackend, create_backend
from services.translation.settings import TranslationSettings
from shared.app import create_service_app
from shared.pubsub import Publisher, PubSubPublisher
from shared.storage import Storage

SERVICE = "translation"


@dataclasses.dataclass
class TranslationContext:
    """What the routes and the workflow share, built once per app."""

    settings: TranslationSettings
    storage: Storage
    backend: TranslationBackend
    publisher: Publisher


def create_app(
    settings: TranslationSettings | None = None,
    *,
    backend: TranslationBackend | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    settings = settings or TranslationSettings.from_env(SERVICE)
    storage = storage or Storage(settings.google_cloud_project)
    context = TranslationContext(
        settings=settings,
        storage=storage,
        backend=backend or create_backend(settings),
        publisher=publisher or PubSubPublisher(),
    )
    app = create_service_app(SERVICE, settings)
    app.extensions[SERVICE] = context
    app.register_blueprint(routes.blueprint())
    app.add_url_rule(workflow.EVENTS_ROUTE, "events", workflow.event_route, methods=["POST"])
    return app
