"""`create_app()`: the translation service as a Flask app: Translation v3's REST surface,
the text-ready -> translations event step, health."""

from __future__ import annotations

from services.translation import routes, workflow
from services.translation.backends import create_backend
from services.translation.settings import TranslationSettings
from shared.service import app_factory

SERVICE = "translation"

create_app = app_factory(
    SERVICE, TranslationSettings, create_backend, routes.blueprint, workflow.handle
)
