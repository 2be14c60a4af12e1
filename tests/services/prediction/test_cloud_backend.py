"""The `cloud` backend: the service forwards to Vertex AI (here a local server replaying
Vertex AI's response format) and hands the answers back unchanged; the `local` backend never
imports google-cloud-aiplatform."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.protobuf import json_format

from tests.conftest import ROOT, RecordingServer, ServiceProcess
from tests.services.prediction.conftest import endpoint_name, official_client

DATA = Path(__file__).parent / "data" / "vertex"
VERTEX_ENDPOINT = "projects/123456789012/locations/us-central1/endpoints/1234"


def _vertex_reply(_method: str, path: str):
    """What Vertex AI answers, by method, as recorded."""
    path = path.split("?")[0]
    headers = {}
    if "/endpoints/999:" in path:
        status, name = 404, "not_found.json"
    elif path.endswith(":predict"):
        status, name = 200, "predict.json"
    elif path.endswith(":explain"):
        status, name = 200, "explain.json"
    elif path.endswith(":rawPredict"):
        status, name = 200, "raw_predict.json"
        headers["X-Vertex-AI-Deployed-Model-Id"] = "4519563957234073600"
    else:
        status, name = 404, "not_found.json"
    return status, (DATA / name).read_bytes(), headers


@pytest.fixture(scope="module")
def vertex():
    server = RecordingServer(_vertex_reply)
    yield server
    server.close()


@pytest.fixture(scope="module")
def cloud_service(tmp_path_factory, vertex):
    service = ServiceProcess(
        "prediction",
        "prediction",
        env={
            "ML_BACKEND": "cloud",
            "PREDICTION_CLOUD_API_ENDPOINT": vertex.url,
            "PREDICTION_CLOUD_ENDPOINTS": f"cancer={VERTEX_ENDPOINT}",
        },
        log_path=tmp_path_factory.mktemp("prediction-cloud") / "service.log",
    )
    yield service
    service.stop()


def recorded(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_predict_is_forwarded_and_answered_unchanged(cloud_service, vertex):
    client = official_client(cloud_service.url)
    response = client.predict(
        endpoint=endpoint_name("cancer"),
        instances=[[1.0, 2.0], {"a": "b"}],
        parameters={"threshold": 0.5},
    )
    assert json_format.MessageToDict(type(response).pb(response)) == recorded("predict.json")
    _method, path, _headers, body = vertex.received[-1]
    assert path.startswith(f"/v1/{VERTEX_ENDPOINT}:predict?")
    assert json.loads(body) == {
        "instances": [[1.0, 2.0], {"a": "b"}],
        "parameters": {"threshold": 0.5},
    }


def test_explain_is_forwarded_with_the_deployed_model_id(cloud_service, vertex):
    client = official_client(cloud_service.url)
    response = client.explain(
        endpoint=endpoint_name("cancer"),
        instances=[[1.0, 2.0]],
        deployed_model_id="4519563957234073600",
    )
    assert json_format.MessageToDict(type(response).pb(response)) == recorded("explain.json")
    sent = vertex.sent_json()
    assert sent["deployedModelId"] == "4519563957234073600"


def test_raw_predict_passes_bodies_both_ways(cloud_service, vertex):
    request = urllib.request.Request(
        f"{cloud_service.url}/v1/{endpoint_name('cancer')}:rawPredict",
        b'{"instances": [[1, 2]]}',
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert json.load(response) == recorded("raw_predict.json")
        assert response.headers["X-Vertex-AI-Deployed-Model-Id"] == "4519563957234073600"
        assert response.headers["X-Vertex-AI-Endpoint-Id"] == "cancer"
    _method, path, _headers, body = vertex.received[-1]
    assert path == f"/v1/{VERTEX_ENDPOINT}:rawPredict"
    assert body == b'{"instances": [[1, 2]]}'


def test_vertex_errors_come_back_in_googles_shape(cloud_service):
    client = official_client(cloud_service.url)
    # Unmapped endpoint ids are forwarded under the request's own name.
    with pytest.raises(exceptions.NotFound, match="endpoints/999` not found"):
        client.predict(endpoint=endpoint_name("999"), instances=[[1.0]])


def test_the_local_backend_does_not_import_aiplatform_or_frameworks():
    code = (
        "import sys\n"
        "from services.prediction.app import create_app\n"
        "create_app()\n"
        "heavy = [m for m in ('google.cloud.aiplatform_v1', 'google.cloud.aiplatform', "
        "'sklearn', 'xgboost', 'lightgbm') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        check=True,
        env={"PATH": "/usr/bin:/bin", "LOG_FORMAT": "text"},
    )
