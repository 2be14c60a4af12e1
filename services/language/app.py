"""`create_app()`: the language service as a Flask app: Natural Language's REST surface
(v1, v2), the text-ready -> annotations event step, health."""

from __future__ import annotations

from services.language import routes, workflow
from services.language.backends import create_backend
from services.language.settings import LanguageSettings
from shared.service import app_factory

SERVICE = "language"

create_app = app_factory(
    SERVICE, LanguageSettings, create_backend, routes.blueprint, workflow.handle
)
