"""The app factory: Google's error JSON for every failure, limits, `$alt`, health, request logs."""

from __future__ import annotations

import io
import json
import logging

import flask
import pytest
from google.cloud import vision

from shared.app import create_service_app, proto_response
from shared.config import Settings
from shared.errors import invalid_argument
from shared.logs import CloudLoggingFormatter


@pytest.fixture
def app():
    app = create_service_app("test", Settings.from_env(environ={}, max_request_bytes=1024))

    @app.post("/v1/things:echo")
    def echo():
        return flask.jsonify(size=len(flask.request.get_data()))

    @app.get("/v1/fail")
    def fail():
        raise RuntimeError("secret internals")

    @app.get("/v1/bad")
    def bad():
        raise invalid_argument("Field `x` must be positive.")

    @app.get("/v1/feature")
    def feature():
        return proto_response(vision.Feature(type_=vision.Feature.Type.TEXT_DETECTION))

    return app


@pytest.fixture
def client(app):
    return app.test_client()


def _error(response) -> dict:
    assert response.is_json, response.data
    return response.get_json()["error"]


def test_api_error_is_googles_json(client):
    response = client.get("/v1/bad")
    assert response.status_code == 400
    assert _error(response) == {
        "code": 400,
        "message": "Field `x` must be positive.",
        "status": "INVALID_ARGUMENT",
    }


def test_unknown_path_is_404_not_found(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert _error(response)["status"] == "NOT_FOUND"


def test_wrong_method_is_405(client):
    response = client.get("/v1/things:echo")
    assert response.status_code == 405
    assert _error(response)["code"] == 405


def test_body_over_the_limit_is_413_before_reading(client):
    response = client.post("/v1/things:echo", data=b"x" * 2048)
    assert response.status_code == 413
    error = _error(response)
    assert error["message"] == "Request payload size exceeds the limit: 1024 bytes."
    assert error["status"] == "INVALID_ARGUMENT"


def test_body_within_the_limit_passes(client):
    assert client.post("/v1/things:echo", data=b"x" * 1000).get_json() == {"size": 1000}


def test_crash_is_500_without_internals(client, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.get("/v1/fail")
    assert response.status_code == 500
    assert _error(response) == {
        "code": 500,
        "message": "Internal error encountered.",
        "status": "INTERNAL",
    }
    assert "secret" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text  # the log keeps what the client must not see


def test_enums_follow_the_clients_encoding(client):
    assert client.get("/v1/feature").get_json() == {"type": "TEXT_DETECTION"}
    as_ints = client.get("/v1/feature?%24alt=json%3Benum-encoding%3Dint").get_json()
    assert as_ints == {"type": 5}


def test_unsupported_alt_is_400(client):
    assert client.get("/v1/feature?$alt=proto").status_code == 400


def test_health_route(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_request_log_carries_http_request_and_trace(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(CloudLoggingFormatter())
    logging.getLogger("shared.app").addHandler(handler)
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    try:
        client.get("/v1/bad", headers={"X-Cloud-Trace-Context": f"{trace}/1;o=1"})
    finally:
        logging.getLogger("shared.app").removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    entry = next(e for e in lines if "httpRequest" in e)
    assert entry["httpRequest"]["status"] == 400
    assert entry["logging.googleapis.com/trace"].endswith(f"/traces/{trace}")
    assert entry["severity"] == "INFO"


def test_an_answer_over_cloud_runs_response_limit_is_refused_in_googles_shape(app, monkeypatch):
    import shared.app

    monkeypatch.setattr(shared.app, "MAX_RESPONSE_BYTES", 64)

    @app.get("/v1/huge")
    def huge():
        return proto_response(vision.Feature(model="x" * 100))

    response = app.test_client().get("/v1/huge")
    assert response.status_code == 400
    assert "over the 64-byte limit of one answer" in _error(response)["message"]
