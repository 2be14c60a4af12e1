"""The Flask app factory every service builds on, and the bridge from functions-framework.

`create_service_app` gives a Flask app that:
- answers every failure with Google's error JSON (`{"error": {"code", "message", "status"}}`):
  400, 404, 405, 413, and 500 without internals (the traceback goes to the log only);
- refuses bodies over `MAX_REQUEST_BYTES` with 413 before reading them;
- accepts the `$alt=json;enum-encoding=int` query that the official REST clients send, and then
  answers enums as numbers (`wants_enum_ints()`);
- serves a health route (`HEALTH_ROUTE`, `/health` by default);
- logs one structured line per request with Cloud Logging's `httpRequest` fields and the trace.

`serve` runs such an app from inside a functions-framework HTTP target, so `main.py` stays thin.
"""

from __future__ import annotations

import logging
import time

import flask
import orjson
import proto
from werkzeug.exceptions import HTTPException

from shared import logs
from shared.config import Settings
from shared.errors import ApiError, Code, invalid_argument
from shared.protojson import to_dict

log = logging.getLogger("shared.app")

# Werkzeug's HTTP errors that reach us, in Google's terms.
_HTTP_TO_CODE = {
    400: Code.INVALID_ARGUMENT,
    401: Code.UNAUTHENTICATED,
    403: Code.PERMISSION_DENIED,
    404: Code.NOT_FOUND,
    405: Code.UNIMPLEMENTED,
    409: Code.ABORTED,
    411: Code.INVALID_ARGUMENT,
    413: Code.INVALID_ARGUMENT,
    415: Code.INVALID_ARGUMENT,
    429: Code.RESOURCE_EXHAUSTED,
}


def create_service_app(name: str, settings: Settings) -> flask.Flask:
    """A Flask app with Google's error shape, limits and logging; services add blueprints."""
    logs.setup_logging(settings.log_format, settings.log_level, settings.google_cloud_project)
    app = flask.Flask(name)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["SETTINGS"] = settings
    app.json.sort_keys = False  # keep Google's field order readable
    app.url_map.strict_slashes = False

    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)

    def health() -> flask.Response:
        return flask.jsonify(status="ok", service=name)

    app.add_url_rule(settings.health_route, "health", health, methods=["GET"])
    return app


def serve(app: flask.Flask, request: flask.Request, path: str | None = None) -> flask.Response:
    """Dispatch a functions-framework request through `app` (same WSGI environ, same body).
    With `path`, the request is routed as if it had been sent there (a single-purpose target
    such as an event function answers on any path), except the health route, which stays."""
    environ = request.environ
    if path is not None and request.path != app.config["SETTINGS"].health_route:
        environ = {**environ, "PATH_INFO": path}
    with app.request_context(environ):
        response = app.full_dispatch_request()
    return response


def wants_enum_ints() -> bool:
    """True when the client asked for `$alt=json;enum-encoding=int`."""
    return flask.g.get("enum_ints", False)


# Cloud Run sends at most 32 MiB in one HTTP/1 response (its documented limit): a larger
# answer would be cut by the platform, so it is refused here, in Google's error JSON, instead.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


def proto_response(message: proto.Message, status: int = 200) -> flask.Response:
    """A proto-plus message as Google's REST JSON, honouring the client's enum encoding."""
    body = orjson.dumps(to_dict(message, enums_as_ints=wants_enum_ints()))
    if len(body) > MAX_RESPONSE_BYTES:
        raise invalid_argument(
            f"The response would be {len(body):,} bytes, over the {MAX_RESPONSE_BYTES:,}-byte "
            "limit of one answer: ask for fewer features or send a shorter document."
        )
    return flask.Response(body, status=status, mimetype="application/json")


def json_body() -> bytes:
    """The raw request body (size already limited), for `protojson.parse`."""
    return flask.request.get_data(cache=True)


def _before_request() -> None:
    flask.g.started = time.perf_counter()
    flask.g.trace_token = logs.bind_trace(logs.trace_from_headers(flask.request.headers))
    alt = flask.request.args.get("$alt") or flask.request.args.get("alt") or "json"
    parts = [part.strip() for part in alt.split(";")]
    if parts[0] != "json":
        raise ApiError(Code.INVALID_ARGUMENT, f"Unsupported alt parameter: {parts[0]!r}.")
    flask.g.enum_ints = "enum-encoding=int" in parts[1:]


def _after_request(response: flask.Response) -> flask.Response:
    if not log.isEnabledFor(logging.INFO):
        return response  # building the fields costs ~17 us a request; skip when unlogged
    request = flask.request
    started = flask.g.get("started")
    latency = time.perf_counter() - started if started else 0.0
    if request.path != flask.current_app.config["SETTINGS"].health_route:
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "json_fields": {
                    "httpRequest": {
                        "requestMethod": request.method,
                        "requestUrl": request.path,
                        "status": response.status_code,
                        "requestSize": str(request.content_length or 0),
                        "responseSize": str(response.calculate_content_length() or 0),
                        "userAgent": request.user_agent.string,
                        "latency": f"{latency:.6f}s",
                    }
                }
            },
        )
    return response


def _teardown_request(_exc: BaseException | None) -> None:
    token = flask.g.pop("trace_token", None)
    if token is not None:
        logs.unbind_trace(token)


def _error_response(error: ApiError) -> flask.Response:
    response = flask.make_response(flask.jsonify(error.to_json()), error.http_status)
    if error.http_status == 413:
        # The body was not read; the connection cannot be reused for another request.
        response.headers["Connection"] = "close"
    return response


def _api_error(error: ApiError) -> flask.Response:
    return _error_response(error)


def _http_error(error: HTTPException) -> flask.Response:
    status = error.code or 500
    if status >= 500:
        return _unexpected_error(error)
    message = _HTTP_MESSAGES.get(status) or error.description or error.name
    if status == 413:
        limit = flask.current_app.config["MAX_CONTENT_LENGTH"]
        message = f"Request payload size exceeds the limit: {limit} bytes."
    code = _HTTP_TO_CODE.get(status, Code.INVALID_ARGUMENT)
    return _error_response(ApiError(code, message, http_status=status))


_HTTP_MESSAGES: dict[int, str] = {
    404: "The requested URL was not found on this server.",
}


def _unexpected_error(error: Exception) -> flask.Response:
    log.error("unhandled error", exc_info=error)
    return _error_response(ApiError(Code.INTERNAL, "Internal error encountered."))
