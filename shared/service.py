"""What every service's `create_app()` does, once: the context its routes and workflow share,
and the Flask app around its REST blueprint and event route.

    def create_app(settings=None, *, backend=None, storage=None, publisher=None):
        settings = settings or VisionSettings.from_env("vision")
        return build_app("vision", settings, backend_factory=create_backend,
                         blueprint=routes.blueprint(), event_route=workflow.event_route,
                         backend=backend, storage=storage, publisher=publisher)

Defaults come from the settings; arguments override them (tests pass their own).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import flask

from shared.app import create_service_app
from shared.config import Settings
from shared.pubsub import Publisher, PubSubPublisher
from shared.storage import Storage
from shared.workflow import EVENTS_ROUTE

S = TypeVar("S", bound=Settings)
B = TypeVar("B")


@dataclasses.dataclass
class ServiceContext(Generic[S, B]):
    """What the routes and the workflow of one service share, built once per app."""

    settings: S
    storage: Storage
    backend: B
    publisher: Publisher


def build_app(
    name: str,
    settings: S,
    *,
    backend_factory: Callable[[S, Storage], Any],
    blueprint: flask.Blueprint,
    event_route: Callable[[], flask.Response],
    backend: Any | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    storage = storage or Storage(settings.google_cloud_project)
    context = ServiceContext(
        settings=settings,
        storage=storage,
        backend=backend or backend_factory(settings, storage),
        publisher=publisher or PubSubPublisher(),
    )
    app = create_service_app(name, settings)
    app.extensions[name] = context
    app.register_blueprint(blueprint)
    app.add_url_rule(EVENTS_ROUTE, "events", event_route, methods=["POST"])
    return app


def context_of(name: str) -> ServiceContext:
    """The current app's context for service `name` (inside a request)."""
    return flask.current_app.extensions[name]
