"""`create_app()`: the language service as a Flask app (REST surface, event route, health)."""

from __future__ import annotations

import flask

from services.language import routes, workflow
from services.language.backends import LanguageBackend, create_backend
from services.language.settings import LanguageSettings
from shared.pubsub import Publisher
from shared.service import build_app
from shared.storage import Storage

SERVICE = "language"


def create_app(
    settings: LanguageSettings | None = None,
    *,
    backend: LanguageBackend | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    return build_app(
        SERVICE,
        settings or LanguageSettings.from_env(SERVICE),
        backend_factory=create_backend,
        blueprint=routes.blueprint(),
        handle_event=workflow.handle,
        backend=backend,
        storage=storage,
        publisher=publisher,
    )
