"""`:predict` without Flask: the WSGI app that `gunicorn services.prediction.main:app` (and
`python -m shared.serving`) serve answers a well-formed predict request itself and hands
everything else to the Flask app.

Profiled under wrk (docs/architecture.md, "Where the time goes"), Flask's request context,
URL matching, before/after hooks and response object cost more per request than parsing the
body and predicting. So a POST to
`/{v1,v1beta1}/projects/*/locations/*/endpoints/*:predict` with a `Content-Length` within
the limit and no query beyond the REST clients' `$alt=json;enum-encoding=int` is answered
here: one read of the body, one JSON parse (`routes.parse_body`, the same checks), the
backend's predict, one `orjson.dumps`, counted in the same metrics. Only success is answered
here: on any error the request, body included, goes to the Flask app, which answers it in
Google's error JSON exactly as before (the predict is side-effect free until it succeeds,
and nothing was counted), so error handling lives in one place. With the access log on
(`ACCESS_LOG`, one log line a request), every request goes through Flask, which writes it.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from services.prediction import routes
from services.prediction.backends import Target

_PATH = re.compile(r"/(?:v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/endpoints/([^/:]+):predict")
# The query strings the official REST clients send; anything else goes through Flask.
_QUERIES = frozenset(
    {
        "",
        "$alt=json",
        "alt=json",
        "$alt=json;enum-encoding=int",
        "$alt=json%3Benum-encoding%3Dint",
        "%24alt=json%3Benum-encoding%3Dint",
    }
)
_HEADERS = [("Content-Type", "application/json")]

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class FastPredict:
    """WSGI middleware around the service's app (`shared.service.function_targets`' `app`,
    built on first use)."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self.build = app.build  # type: ignore[attr-defined]
        self._ready: tuple[Any, int, str, bool] | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self._app(environ, start_response)
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or environ.get("QUERY_STRING", "") not in _QUERIES:
            return self._app(environ, start_response)
        context, limit, sticky_header, enabled = self._ready or self._prepare()
        length = environ.get("CONTENT_LENGTH")
        if not enabled or not length or not length.isdigit() or int(length) > limit:
            return self._app(environ, start_response)
        started = time.perf_counter()
        body = environ["wsgi.input"].read(int(length))
        try:
            payload, deployed, instances = _predict(
                context, Target(*match.groups()), body, environ.get(sticky_header)
            )
        except Exception:
            environ["wsgi.input"] = io.BytesIO(body)
            return self._app(environ, start_response)
        context.metrics.observe_request(
            match.group(3), deployed, "predict", "OK", time.perf_counter() - started, instances
        )
        start_response("200 OK", [*_HEADERS, ("Content-Length", str(len(payload)))])
        return [payload]

    def _prepare(self) -> tuple[Any, int, str, bool]:
        """What every request needs, looked up once: the service's context, its body limit,
        the sticky header's WSGI name, and whether the fast path may answer at all."""
        flask_app = self.build()
        context = flask_app.extensions["prediction"]
        settings = context.settings
        header = "HTTP_" + settings.sticky_header.upper().replace("-", "_")
        enabled = not logging.getLogger("shared.app").isEnabledFor(logging.INFO)
        self._ready = (context, flask_app.config["MAX_CONTENT_LENGTH"], header, enabled)
        return self._ready


def _predict(
    context: Any, target: Target, body: bytes, sticky_header: str | None
) -> tuple[bytes, str, int]:
    """The response body, the deployed model that answered, and the instance count."""
    request = routes.parse_body(body, routes.PREDICT_SHAPE)
    parameters = request.get("parameters")
    with context.inflight:
        result = context.backend.predict(
            target,
            request.get("instances"),
            parameters,
            routes.sticky_key(sticky_header, parameters),
        )
    return routes.dumps(result.to_json()), result.deployed_model_id, len(result.predictions)
