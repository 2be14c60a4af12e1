"""`create_app()`: the vision service as a Flask app: Cloud Vision's REST surface, the
image -> text event step, health."""

from __future__ import annotations

from services.vision import routes, workflow
from services.vision.backends import create_backend
from services.vision.settings import VisionSettings
from shared.service import app_factory

SERVICE = "vision"

create_app = app_factory(SERVICE, VisionSettings, create_backend, routes.blueprint, workflow.handle)
