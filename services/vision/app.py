"""`create_app()`: the vision service as a Flask app (REST surface, event route, health)."""

from __future__ import annotations

import flask

from services.vision import routes, workflow
from services.vision.backends import VisionBackend, create_backend
from services.vision.settings import VisionSettings
from shared.pubsub import Publisher
from shared.service import build_app
from shared.storage import Storage

SERVICE = "vision"


def create_app(
    settings: VisionSettings | None = None,
    *,
    backend: VisionBackend | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    return build_app(
        SERVICE,
        settings or VisionSettings.from_env(SERVICE),
        backend_factory=create_backend,
        blueprint=routes.blueprint(),
        handle_event=workflow.handle,
        backend=backend,
        storage=storage,
        publisher=publisher,
    )
