"""`create_app()`: the translation service as a Flask app (REST surface, event route, health)."""

from __future__ import annotations

import flask

from services.translation import routes, workflow
from services.translation.backends import TranslationBackend, create_backend
from services.translation.settings import TranslationSettings
from shared.pubsub import Publisher
from shared.service import build_app
from shared.storage import Storage

SERVICE = "translation"


def create_app(
    settings: TranslationSettings | None = None,
    *,
    backend: TranslationBackend | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    return build_app(
        SERVICE,
        settings or TranslationSettings.from_env(SERVICE),
        backend_factory=create_backend,
        blueprint=routes.blueprint(),
        handle_event=workflow.handle,
        backend=backend,
        storage=storage,
        publisher=publisher,
    )
