"""What every service's `app.py` and `main.py` do, once.

`build_app` makes the Flask app around a service's REST blueprint, its event step and its
backend, and the context they share; `app_factory` gives the usual `create_app` over it, so a
service's `app.py` is one call:

    create_app = app_factory("vision", VisionSettings, create_backend, routes.blueprint,
                             workflow.handle)
    create_app(settings=None, *, backend=None, storage=None, publisher=None) -> flask.Flask

Defaults come from the environment (`VisionSettings.from_env("vision")`); arguments override
them (tests pass their own). The event step is a plain function
`handle(event, context) -> Outcome`; the route that decodes the event and answers Pub/Sub is
built here (`shared.workflow`).

`function_targets` turns `create_app` into the functions-framework targets, so `main.py` is:

    vision, vision_events, app = function_targets("vision", create_app)

The app is built once, not at import: by `shared.serving` when its worker starts, under
functions-framework at the first request (so it listens at once).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

import flask
import functions_framework

from shared import events, workflow
from shared.app import create_service_app, serve
from shared.config import Settings
from shared.pubsub import Publisher, PubSubPublisher
from shared.storage import Storage

S = TypeVar("S", bound=Settings)
B = TypeVar("B")


@dataclasses.dataclass
class ServiceContext(Generic[S, B]):
    """What the routes and the workflow of one service share, built once per app."""

    settings: S
    storage: Storage
    backend: B
    publisher: Publisher


EventHandler = Callable[[events.Event, Any], workflow.Outcome]
# A context's fields beyond the four parts that are made from them (a service's operations
# store needs its storage and backend): `parts(settings, storage, backend) -> {field: value}`.
ContextParts = Callable[[Any, Storage, Any], dict[str, Any]]


def build_app(
    name: str,
    settings: S,
    *,
    backend_factory: Callable[[S, Storage], Any],
    blueprint: flask.Blueprint,
    handle_event: EventHandler | None = None,
    backend: Any | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
    context_type: type[ServiceContext] = ServiceContext,
    context_parts: ContextParts | None = None,
    **context_fields: Any,
) -> flask.Flask:
    """The service's app. A service without events (online prediction) passes no
    `handle_event`; one whose routes share more than the four parts passes a `context_type`
    subclass and its extra fields, as values or made by `context_parts` from the parts."""
    storage = storage or Storage(settings.google_cloud_project)
    backend = backend if backend is not None else backend_factory(settings, storage)
    if context_parts is not None:
        context_fields = {**context_parts(settings, storage, backend), **context_fields}
    context = context_type(
        settings=settings,
        storage=storage,
        backend=backend,
        publisher=publisher or PubSubPublisher(),
        **context_fields,
    )
    app = create_service_app(name, settings)
    app.extensions[name] = context
    app.register_blueprint(blueprint)
    if handle_event is not None:

        def event_route() -> flask.Response:
            return workflow.respond(handle_event(workflow.event_from_request(), context))

        app.add_url_rule(workflow.EVENTS_ROUTE, "events", event_route, methods=["POST"])
    return app


def app_factory(
    name: str,
    settings_type: type[S],
    backend_factory: Callable[[S, Storage], Any],
    blueprint: Callable[[], flask.Blueprint],
    handle_event: EventHandler | None = None,
    *,
    context_type: type[ServiceContext] = ServiceContext,
    context_parts: ContextParts | None = None,
) -> Callable[..., flask.Flask]:
    """The `create_app` of a service: the usual four parts, and for a service whose routes
    share more, its `context_type` with the fields `context_parts` makes from them."""

    def create_app(
        settings: S | None = None,
        *,
        backend: Any | None = None,
        storage: Storage | None = None,
        publisher: Publisher | None = None,
    ) -> flask.Flask:
        """Defaults from the environment, then the arguments (tests pass their own)."""
        return build_app(
            name,
            settings or settings_type.from_env(name),
            backend_factory=backend_factory,
            blueprint=blueprint(),
            handle_event=handle_event,
            backend=backend,
            storage=storage,
            publisher=publisher,
            context_type=context_type,
            context_parts=context_parts,
        )

    return create_app


def context_of(name: str) -> ServiceContext:
    """The current app's context for service `name` (inside a request)."""
    return flask.current_app.extensions[name]


class Targets(NamedTuple):
    http: Callable[[flask.Request], flask.Response]
    events: Callable[[flask.Request], flask.Response]
    app: Callable[[dict, Callable], Any]


def function_targets(name: str, create_app: Callable[[], flask.Flask]) -> Targets:
    """The functions-framework targets of service `name`:

    - `http` (target `<name>`): Google's REST paths, `/events` (Pub/Sub push, Eventarc) and
      the health route;
    - `events` (target `<name>_events`): one event on any path, for a Cloud Functions deploy;
    - `app`: the same app as a plain WSGI callable (`gunicorn services.<name>.main:app`), one
      Flask dispatch per request instead of functions-framework's plus ours.
    """
    built = functools.cache(create_app)

    def http(request: flask.Request) -> flask.Response:
        return serve(built(), request)

    def on_event(request: flask.Request) -> flask.Response:
        return serve(built(), request, path=workflow.EVENTS_ROUTE)

    def wsgi(environ: dict, start_response: Callable) -> Any:
        return built()(environ, start_response)

    # functions-framework registers a target's signature type under its function's name.
    http.__name__ = http.__qualname__ = name
    on_event.__name__ = on_event.__qualname__ = f"{name}_events"
    wsgi.build = built  # type: ignore[attr-defined]
    return Targets(functions_framework.http(http), functions_framework.http(on_event), wsgi)
