"""Bad input: Google's error JSON naming the instance and the field, and the service keeps
answering afterwards; a corrupt artifact takes down only its own version."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from google.api_core import exceptions

from tests.services.prediction.conftest import endpoint_name


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(autouse=True)
def _service_still_answers(prediction_service, client, trained):
    yield
    assert prediction_service.alive()
    row = trained["diabetes-lgb"].X[0].tolist()
    assert client.predict(endpoint=endpoint_name("diabetes-lgb"), instances=[row]).predictions


def cancer_row(trained) -> list[float]:
    return trained["cancer-1"].X[0].tolist()


def bad_rows(trained):
    good = cancer_row(trained)
    return {
        "short": [good, good[:3]],
        "string": [good, ["abc", *good[1:]]],
        "null": [good, [None, *good[1:]]],
        "nan": [good, ["NaN", *good[1:]]],
        "infinite": [good, ["Infinity", *good[1:]]],
        "scalar": [good, 5],
    }


@pytest.mark.parametrize(
    ("case", "field", "fragment"),
    [
        ("short", "instances[1]", "has 3 values; the model takes 30 features"),
        ("string", "instances[1].mean_radius", 'expected a number, got string "abc"'),
        ("null", "instances[1].mean_radius", "is missing"),
        ("nan", "instances[1].mean_radius", "is missing"),
        ("infinite", "instances[1].mean_radius", "infinite"),
        ("scalar", "instances[1]", "must be a list of feature values or an object"),
    ],
)
def test_bad_instances_name_the_instance_and_field(
    prediction_service, trained, case, field, fragment
):
    body = json.dumps({"instances": bad_rows(trained)[case]}).encode()
    status, answer = post(f"{prediction_service.url}/v1/{endpoint_name('cancer')}:predict", body)
    assert status == 400
    error = answer["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith(f"{field}: ")
    assert fragment in error["message"]
    violation = error["details"][0]
    assert violation["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert violation["fieldViolations"][0]["field"] == field


def test_the_official_client_raises_bad_request_for_a_wrong_feature_count(client, trained):
    with pytest.raises(exceptions.BadRequest, match=r"instances\[0\]: has 2 values"):
        client.predict(endpoint=endpoint_name("cancer"), instances=[[1.0, 2.0]])


@pytest.mark.parametrize(
    ("instance", "field", "fragment"),
    [
        ({"colour": "red", "size": 3.0, "count": 2.5}, "instances[0].count", "expected an integer"),
        ({"colour": 7, "size": 3.0, "count": 2}, "instances[0].colour", "expected a string"),
        ({"colour": "red", "size": 3.0}, "instances[0].count", "is missing"),
        (
            {"colour": "red", "size": 3.0, "count": 1, "weight": 2},
            "instances[0].weight",
            "is not a feature of this model",
        ),
    ],
)
def test_object_instances_are_checked_by_name(prediction_service, instance, field, fragment):
    body = json.dumps({"instances": [instance]}).encode()
    status, answer = post(f"{prediction_service.url}/v1/{endpoint_name('mixed')}:predict", body)
    assert status == 400
    assert answer["error"]["message"].startswith(field)
    assert fragment in answer["error"]["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{}", "instances: is required"),
        (b'{"instances": []}', "instances: must be a non-empty list"),
        (b'{"instances": {"a": 1}}', "instances: must be a non-empty list"),
        (b'{"instances": [[NaN]]}', "Invalid JSON payload"),
        (b"{not json", "Invalid JSON payload"),
        (b"[1, 2]", "Expected a JSON object"),
        (b'{"instances": [[1]], "colour": 1}', 'Unknown name "colour"'),
        (b'{"instances": [[1]], "parameters": 3}', "parameters must be an object"),
    ],
)
def test_malformed_requests_are_400(prediction_service, body, fragment):
    status, answer = post(f"{prediction_service.url}/v1/{endpoint_name('cancer')}:predict", body)
    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    assert fragment in answer["error"]["message"]


def test_a_body_over_10_mb_is_413(prediction_service):
    body = b'{"instances": [' + b"[1.0]," * (10 * 2**20 // 6 + 10) + b"[1.0]]}"
    assert len(body) > 10 * 2**20
    status, answer = post(f"{prediction_service.url}/v1/{endpoint_name('cancer')}:predict", body)
    assert status == 413
    assert "exceeds the limit" in answer["error"]["message"]


def test_too_many_instances_is_400(prediction_service, trained):
    body = json.dumps({"instances": [cancer_row(trained)] * 10_001}).encode()
    status, answer = post(f"{prediction_service.url}/v1/{endpoint_name('cancer')}:predict", body)
    assert status == 400
    assert "the limit is 10000" in answer["error"]["message"]


def test_unknown_endpoint_is_404(client):
    with pytest.raises(exceptions.NotFound, match="Endpoint 'nope' not found"):
        client.predict(endpoint=endpoint_name("nope"), instances=[[1.0]])


def test_unknown_deployed_model_id_is_404(client, trained):
    with pytest.raises(exceptions.NotFound, match="no version '7'"):
        client.explain(
            endpoint=endpoint_name("cancer"), instances=[cancer_row(trained)], deployed_model_id="7"
        )


def test_a_corrupt_version_leaves_the_others_serving(client, trained, prediction_service):
    row = cancer_row(trained)
    answered = {
        client.predict(
            endpoint=endpoint_name("broken"), instances=[row], parameters={"stickyKey": str(i)}
        ).deployed_model_id
        for i in range(20)
    }
    assert answered == {"1"}
    with pytest.raises(exceptions.BadRequest, match="version '2' failed to load"):
        client.explain(endpoint=endpoint_name("broken"), instances=[row], deployed_model_id="2")
    assert "model version failed to load" in prediction_service.logs()


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        (
            "explain",
            b'{"instances": [[1]], "explanationSpecOverride": "x"}',
            "explanation_spec_override",
        ),
        (
            "rawPredict",
            b'{"httpBody": {"contentType": "application/json", "data": 5}}',
            "http_body.data",
        ),
        ("predict", b'{"instances": [[1e400]]}', None),
    ],
)
def test_wrong_types_name_the_field_in_googles_words(prediction_service, method, body, field):
    url = f"{prediction_service.url}/v1/{endpoint_name('cancer')}:{method}"
    status, answer = post(url, body)
    assert status == 400
    assert answer["error"]["message"].startswith("Invalid JSON payload received.")
    if field:
        assert f"Invalid value at '{field}'" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "models:upload",
            {"model": {"displayName": "m", "artifactUri": 999}},
            "model.artifact_uri",
        ),
        (
            "models:upload",
            {"model": {"displayName": "m", "containerSpec": 1.5}},
            "model.container_spec",
        ),
        ("models:upload", {"model": "x"}, "model"),
        (
            "endpoints/cancer:deployModel",
            {"deployedModel": {"model": 1e308}},
            "deployed_model.model",
        ),
        ("endpoints", {"displayName": "e", "labels": "x"}, "labels"),
    ],
)
def test_vertex_control_plane_bodies_are_checked_against_vertex_messages(
    prediction_service, path, body, field
):
    url = f"{prediction_service.url}/v1/projects/test-project/locations/us-central1/{path}"
    status, answer = post(url, json.dumps(body).encode())
    assert status == 400, answer
    assert f"Invalid value at '{field}'" in answer["error"]["message"]
