"""The local Vertex AI host: a routing table by resource collection, and a pass-through that
changes nothing (run in-process against a real upstream HTTP server)."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from local.vertex_host import RouteTable, VertexHost, parse_routes, routes_for
from tests.conftest import RecordingServer, free_port

TABLE = {
    "endpoints": "http://prediction",
    "models": "http://prediction",
    "batchPredictionJobs": "http://batch",
}
L = "projects/p/locations/us-central1"


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        (f"/v1/{L}/endpoints/123:predict", "http://prediction"),
        (f"/v1/{L}/endpoints/123:explain", "http://prediction"),
        (f"/v1/{L}/endpoints", "http://prediction"),
        (f"/v1/{L}/models:upload", "http://prediction"),
        (f"/v1/{L}/models/7@2", "http://prediction"),
        (f"/v1/{L}/models/7:mergeVersionAliases", "http://prediction"),
        (f"/ui/{L}/endpoints/1/operations/2", "http://prediction"),  # the SDK's LRO polls
        (f"/v1/{L}/models/7/operations/2:wait", "http://prediction"),
        (f"/v1beta1/{L}/batchPredictionJobs/9:cancel", "http://batch"),
        (f"/v1/{L}/batchPredictionJobs", "http://batch"),
        (f"/v1/{L}/customJobs", None),  # no local training service (yet)
        (f"/v2/{L}/endpoints/1:predict", None),
        ("/v1/projects/p/endpoints/1", None),
        ("/", None),
    ],
)
def test_the_collection_after_the_location_picks_the_service(path, upstream):
    assert RouteTable(TABLE).upstream(path) == upstream


def test_a_topology_hosts_table_gets_the_service_urls():
    routes = {"endpoints": "prediction", "batchPredictionJobs": "batch_prediction"}
    urls = {"prediction": "http://127.0.0.1:1", "batch_prediction": "http://127.0.0.1:2"}
    assert routes_for(routes, urls) == {
        "endpoints": "http://127.0.0.1:1",
        "batchPredictionJobs": "http://127.0.0.1:2",
    }
    assert parse_routes(["models=http://x:1"]) == {"models": "http://x:1"}
    with pytest.raises(ValueError, match="COLLECTION=URL"):
        parse_routes(["models"])


@pytest.fixture
def upstream():
    server = RecordingServer(
        lambda method, path: (
            201,
            json.dumps({"method": method, "path": path}).encode(),
            {"X-Vertex-AI-Deployed-Model-Id": "7", "Content-Type": "application/json"},
        )
    )
    yield server
    server.close()


def test_requests_and_answers_pass_through_unchanged(upstream):
    client = Client(VertexHost(RouteTable({"endpoints": upstream.url})))
    response = client.post(
        f"/v1/{L}/endpoints/1:rawPredict?$alt=json;enum-encoding=int",
        data=b'{"instances": [[1, 2]]}',
        headers={"Content-Type": "application/json", "X-Mlapi-Sticky-Key": "alice"},
    )
    assert response.status_code == 201
    assert response.headers["X-Vertex-AI-Deployed-Model-Id"] == "7"
    method, path, headers, body = upstream.received[-1]
    assert (method, body) == ("POST", b'{"instances": [[1, 2]]}')
    assert path == f"/v1/{L}/endpoints/1:rawPredict?$alt=json;enum-encoding=int"
    assert headers["X-Mlapi-Sticky-Key"] == "alice"
    assert response.get_json() == {"method": "POST", "path": path}


def test_what_no_service_serves_is_unimplemented_and_a_silent_one_unavailable():
    client = Client(VertexHost(RouteTable({"endpoints": f"http://127.0.0.1:{free_port()}"})))
    missing = client.get(f"/v1/{L}/customJobs")
    assert missing.status_code == 501
    assert missing.get_json()["error"]["status"] == "UNIMPLEMENTED"
    assert "routes endpoints" in missing.get_json()["error"]["message"]
    down = client.get(f"/v1/{L}/endpoints/1")
    assert down.status_code == 503
    assert down.get_json()["error"]["status"] == "UNAVAILABLE"
    assert client.get("/health").status_code == 200
