"""Vertex AI's prediction REST surface: the same paths and JSON as aiplatform.googleapis.com.

    POST /v1/projects/{p}/locations/{l}/endpoints/{e}:predict     PredictionService.Predict
    POST /v1/projects/{p}/locations/{l}/endpoints/{e}:rawPredict  PredictionService.RawPredict
    POST /v1/projects/{p}/locations/{l}/endpoints/{e}:explain     PredictionService.Explain
    GET  /metrics                                                 Prometheus text
    POST $AIP_PREDICT_ROUTE, GET $AIP_HEALTH_ROUTE                the custom-container contract
    (and the same under /v1beta1)

ModelService, EndpointService (GetEndpoint included) and their operations have their own
modules: `model_service`, `endpoint_service`, `operations`.

`:rawPredict` passes the body through and answers the model's body as is, with the
`X-Vertex-AI-Endpoint-Id` and `X-Vertex-AI-Deployed-Model-Id` headers. The generated REST
client of google-cloud-aiplatform sends the body wrapped as a `google.api.HttpBody` in JSON
(`{"httpBody": {"contentType", "data": base64}}`) and parses the answer the same way; such a
request is unwrapped and its answer wrapped, so both that client and plain HTTP callers (curl,
`aiplatform.Endpoint.raw_predict`) get the model's body.

A request may pin itself to one version with a sticky key: the `STICKY_HEADER` header
(`X-Mlapi-Sticky-Key`) or `parameters.stickyKey`. Not a Vertex AI feature: Vertex splits
traffic at random per request.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import flask
import orjson

from services.prediction.backends import CONTAINER_ENDPOINT, PredictResult, Target
from services.prediction.metrics import Metrics
from services.prediction.settings import PredictionSettings
from shared import jsonbody, protocheck
from shared.errors import ApiError, echo, invalid_argument, not_found
from shared.service import context_of

log = logging.getLogger(__name__)

_ENDPOINT = "/<api>/projects/<project>/locations/<location>/endpoints/<endpoint>"
_API_VERSIONS = ("v1", "v1beta1")
# PredictRequest and ExplainRequest (google/cloud/aiplatform/v1/prediction_service.proto), as
# far as the service reads them; instances are checked against the model's schema later.
PREDICT_SHAPE = {"instances": "ANY", "parameters": {"*": "ANY"}}
_EXPLAIN = {
    **PREDICT_SHAPE,
    "deployedModelId": "TYPE_STRING",
    "explanationSpecOverride": {
        "parameters": {
            "sampledShapleyAttribution": {"pathCount": "TYPE_INT32"},
            "integratedGradientsAttribution": "ANY",
            "xraiAttribution": "ANY",
            "examples": "ANY",
            "topK": "TYPE_INT32",
            "outputIndices": "ANY",
        },
        "metadata": "ANY",
        "examplesOverride": "ANY",
    },
}
_HTTP_BODY = {
    "httpBody": {"contentType": "TYPE_STRING", "data": "TYPE_BYTES", "extensions": "ANY"},
    "endpoint": "TYPE_STRING",
}


def blueprint(settings: PredictionSettings) -> flask.Blueprint:
    bp = flask.Blueprint("prediction_api", __name__)
    bp.add_url_rule(f"{_ENDPOINT}:predict", view_func=predict, methods=["POST"])
    bp.add_url_rule(f"{_ENDPOINT}:rawPredict", view_func=raw_predict, methods=["POST"])
    bp.add_url_rule(f"{_ENDPOINT}:explain", view_func=explain, methods=["POST"])
    bp.add_url_rule(f"{_ENDPOINT}:<method>", view_func=unknown_method, methods=["GET", "POST"])
    bp.add_url_rule("/metrics", view_func=metrics, methods=["GET"])
    if settings.container_mode:
        bp.add_url_rule(
            settings.aip_predict_route or "/predict",
            view_func=container_predict,
            methods=["POST"],
        )
        if settings.aip_health_route and settings.aip_health_route != settings.health_route:
            bp.add_url_rule(settings.aip_health_route, view_func=container_health, methods=["GET"])
    return bp


def _context() -> Any:
    return context_of("prediction")


def _target(api: str, project: str, location: str, endpoint: str) -> Target:
    if api not in _API_VERSIONS:
        flask.abort(404)
    return Target(project, location, endpoint)


def _body(shape: dict[str, Any]) -> dict[str, Any]:
    return parse_body(flask.request.get_data(), shape)


def parse_body(raw: bytes, shape: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON object, checked against `shape` (one parse, Google's errors)."""
    body = jsonbody.object_body(raw)
    parameters = body.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise invalid_argument("Invalid JSON payload received. parameters must be an object.")
    protocheck.check_shape(body, shape, "")
    return body


def _sticky_key(parameters: dict[str, Any] | None) -> str | None:
    return sticky_key(flask.request.headers.get(_context().settings.sticky_header), parameters)


def sticky_key(header: str | None, parameters: dict[str, Any] | None) -> str | None:
    if header:
        return header
    key = (parameters or {}).get("stickyKey")
    return str(key) if key is not None else None


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)


def _json(data: Any, status: int = 200) -> flask.Response:
    return flask.Response(
        dumps(data),
        status=status,
        mimetype="application/json",
    )


class _Observed:
    """Times one request and counts it per endpoint and version, whatever the outcome."""

    def __init__(self, metrics: Metrics, endpoint: str, method: str) -> None:
        self.metrics, self.endpoint, self.method = metrics, endpoint, method
        self.version = ""
        self.instances = 0

    def __enter__(self) -> _Observed:
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> None:
        if exc is None:
            code = "OK"
        elif isinstance(exc, ApiError):
            code = exc.code.name
        else:
            code = "INTERNAL"
        self.metrics.observe_request(
            self.endpoint,
            self.version,
            self.method,
            code,
            time.perf_counter() - self.started,
            self.instances,
        )


def predict(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    return _json(_predict(_target(api, project, location, endpoint)).to_json())


def _predict(target: Target) -> PredictResult:
    """One `{"instances", "parameters"}` request, timed and counted under its endpoint."""
    context = _context()
    with context.inflight, _Observed(context.metrics, target.endpoint, "predict") as observed:
        body = _body(PREDICT_SHAPE)
        parameters = body.get("parameters")
        result = context.backend.predict(
            target, body.get("instances"), parameters, _sticky_key(parameters)
        )
        observed.version = result.deployed_model_id
        observed.instances = len(result.predictions)
    return result


def raw_predict(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    context = _context()
    target = _target(api, project, location, endpoint)
    body = flask.request.get_data()
    content_type = flask.request.content_type or "application/json"
    wrapped = _unwrap_http_body(body)
    if wrapped is not None:
        body, content_type = wrapped
    with context.inflight, _Observed(context.metrics, endpoint, "rawPredict") as observed:
        result = context.backend.raw_predict(
            target, body, content_type, flask.request.headers.get(context.settings.sticky_header)
        )
        observed.version = result.deployed_model_id
    if wrapped is not None:
        payload = orjson.dumps(
            {"contentType": result.content_type, "data": base64.b64encode(result.body).decode()}
        )
        response = flask.Response(payload, mimetype="application/json")
    else:
        response = flask.Response(result.body, content_type=result.content_type)
    response.headers["X-Vertex-AI-Endpoint-Id"] = endpoint
    response.headers["X-Vertex-AI-Deployed-Model-Id"] = result.deployed_model_id
    return response


def _unwrap_http_body(body: bytes) -> tuple[bytes, str] | None:
    """The GAPIC REST client's `{"httpBody": {"contentType", "data"}}`; None for a raw body."""
    if b'"httpBody"' not in body[:200]:
        return None
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(envelope, dict) or set(envelope) - {"httpBody", "endpoint"}:
        return None
    if not isinstance(envelope.get("httpBody"), dict):
        return None
    protocheck.check_shape(envelope, _HTTP_BODY, "")
    http_body = envelope["httpBody"]
    data = protocheck.bytes_value(http_body.get("data") or "")
    return data, http_body.get("contentType") or "application/json"


def explain(api: str, project: str, location: str, endpoint: str) -> flask.Response:
    context = _context()
    target = _target(api, project, location, endpoint)
    # Not `context.inflight`: an explanation never joins a predict batch, and a batch leader
    # would wait for it as for a request on its way.
    with _Observed(context.metrics, endpoint, "explain") as observed:
        body = _body(_EXPLAIN)
        parameters = body.get("parameters")
        result = context.backend.explain(
            target,
            body.get("instances"),
            parameters,
            body.get("deployedModelId") or None,
            _sticky_key(parameters),
            body.get("explanationSpecOverride"),
        )
        observed.version = result.deployed_model_id
        observed.instances = len(result.predictions)
    return _json(result.to_json())


def unknown_method(api: str, project: str, location: str, endpoint: str, method: str):
    """A method Vertex AI's PredictionService does not have on an endpoint: Google's 404."""
    _target(api, project, location, endpoint)
    raise not_found(
        f"Method {echo(method)} is not found on endpoints: use :predict, :rawPredict or :explain."
    )


def metrics() -> flask.Response:
    return flask.Response(_context().metrics.render(), mimetype="text/plain; version=0.0.4")


def container_predict() -> flask.Response:
    """The custom-container contract: `{"instances", "parameters"}` in, `{"predictions"}` out."""
    result = _predict(Target("-", "-", CONTAINER_ENDPOINT))
    return _json({"predictions": result.predictions})


def container_health() -> flask.Response:
    backend = _context().backend
    if not backend.ready():
        return _json({"status": "model failed to load"}, 503)
    return _json({"status": "ok"})
