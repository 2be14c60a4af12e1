"""With `ML_BACKEND=cloud` the prediction service forwards to Vertex AI, whose own host manages
models and endpoints: the registry's ModelService and EndpointService (GetEndpoint included)
answer UNIMPLEMENTED there, naming the host to use, and call nothing."""

from __future__ import annotations

import pytest

from services.prediction.app import create_app
from services.prediction.settings import PredictionSettings
from tests.conftest import RecordingServer

L = "/v1/projects/test-project/locations/us-central1"


@pytest.fixture
def vertex():
    server = RecordingServer()
    yield server
    server.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{L}/models:upload"),
        ("GET", f"{L}/models"),
        ("GET", f"{L}/models/7@2"),
        ("POST", f"{L}/endpoints"),
        ("GET", f"{L}/endpoints/cancer"),
        ("POST", f"{L}/endpoints/cancer:deployModel"),
        ("GET", f"/ui{L[3:]}/endpoints/cancer/operations/1"),
    ],
)
def test_registry_apis_are_unimplemented_in_cloud_mode(vertex, method, path):
    settings = PredictionSettings(
        ml_backend="cloud",
        cloud_api_endpoint=vertex.url,
        cloud_endpoints=["cancer=projects/1/locations/us-central1/endpoints/4"],
    )
    response = create_app(settings).test_client().open(path, method=method, json={})
    assert response.status_code == 501
    error = response.get_json()["error"]
    assert error["status"] == "UNIMPLEMENTED"
    assert "aiplatform.googleapis.com" in error["message"]
    assert vertex.received == []
