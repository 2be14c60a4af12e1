"""ModelService and EndpointService as two doors to the registry, their operations, and what
they refuse, through the local Vertex AI host (the SDK unchanged, plus plain HTTP where the
SDK would refuse a request itself before sending it)."""

from __future__ import annotations

import uuid

import joblib
import pytest
import requests
from click.testing import CliRunner

from local.models_cli import models as models_cli
from tests.services.prediction import models
from tests.services.prediction.conftest import VERTEX_MODELS
from tests.services.prediction.vertex_stack import LOCATION, PROJECT, SKLEARN_IMAGE, TF_IMAGE

PARENT = f"projects/{PROJECT}/locations/{LOCATION}"


@pytest.fixture(scope="module")
def iris():
    return models.iris_forest()


@pytest.fixture(scope="module")
def deployed(vertex, iris):
    """An uploaded iris model deployed on a new endpoint, and the endpoint."""
    from google.cloud import aiplatform

    vertex.init_sdk()
    model = aiplatform.Model.upload(
        display_name="iris",
        artifact_uri=vertex.artifact(f"iris-{uuid.uuid4().hex[:6]}", "model.joblib", iris.model),
        serving_container_image_uri=SKLEARN_IMAGE,
    )
    endpoint = aiplatform.Endpoint.create(display_name="iris-endpoint")
    model.deploy(endpoint=endpoint, machine_type="n1-standard-2")
    return model, endpoint


def _cli(vertex, *argv: str) -> str:
    result = CliRunner().invoke(
        models_cli, ["--bucket", VERTEX_MODELS, *argv], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _error(response: requests.Response) -> dict:
    """Google's error JSON: {"error": {"code", "message", "status"}}."""
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == response.status_code
    return error


# -- two doors to one registry ---------------------------------------------------------------


def test_the_cli_and_the_sdk_see_each_others_changes_at_once(vertex, iris, tmp_path):
    from google.cloud import aiplatform

    vertex.init_sdk()
    name = f"iris-{uuid.uuid4().hex[:6]}"
    artifact = tmp_path / "model.joblib"
    joblib.dump(iris.model, artifact)
    _cli(vertex, "register", name, str(artifact), "--alias", "champion")

    # Registered by the CLI: a Vertex model, whose default version is `champion`'s, and whose
    # own endpoint serves it.
    model = aiplatform.Model(name)
    assert (model.version_id, sorted(model.version_aliases)) == ("1", ["champion", "default"])
    own = aiplatform.Endpoint(name)
    assert own.traffic_split == {"1": 100}
    assert (
        own.predict(instances=[iris.X[0].tolist()]).predictions
        == iris.model.predict(iris.X[:1]).tolist()
    )

    # Uploaded through the SDK: the CLI lists it.
    aiplatform.Model.upload(
        parent_model=name,
        display_name=name,
        artifact_uri=vertex.artifact(f"{name}/v2", "model.joblib", iris.model),
        serving_container_image_uri=SKLEARN_IMAGE,
        is_default_version=False,
        version_aliases=["challenger"],
    )
    listed = _cli(vertex, "list", name)
    assert "challenger" in listed.splitlines()[2]

    # Split by the CLI: the endpoint shows it. Changed through the SDK: the registry keeps
    # the alias the split was written with, and the CLI shows the traffic.
    _cli(vertex, "split", name, "champion=50", "challenger=50")
    own = aiplatform.Endpoint(name)
    assert own.traffic_split == {"1": 50, "2": 50}
    own.update(traffic_split={"1": 0, "2": 100})
    snapshot = vertex.registry.snapshot(name)
    assert snapshot.split == {"champion": 0, "challenger": 100}
    assert "100%" in _cli(vertex, "list", name).splitlines()[2]
    # ... and the prediction service serves the new split from the next request.
    assert {own.predict(instances=[iris.X[0].tolist()]).model_version_id for _ in range(20)} == {
        "2"
    }

    # Aliases merged through the SDK are the registry's aliases.
    aiplatform.models.ModelRegistry(name).add_version_aliases(["golden"], version="1")
    assert vertex.registry.snapshot(name).aliases["golden"] == "1"


def test_get_model_by_version_or_alias_and_list_filters(vertex, deployed):
    from google.cloud import aiplatform

    model, endpoint = deployed
    by_version = aiplatform.Model(f"{model.resource_name}@1")
    by_alias = aiplatform.Model(model.resource_name, version="default")
    assert by_version.version_id == by_alias.version_id == "1"
    resource = by_version.gca_resource
    assert resource.version_create_time
    assert resource.create_time
    assert resource.etag
    assert resource.deployed_models[0].endpoint == endpoint.resource_name
    assert resource.deployed_models[0].deployed_model_id == endpoint.list_models()[0].id
    assert resource.artifact_uri.startswith("gs://")
    assert [m.resource_name for m in aiplatform.Model.list(filter='display_name="iris"')] == [
        model.resource_name
    ]
    found = aiplatform.Endpoint.list(filter=f"endpoint={endpoint.name}")
    assert [e.resource_name for e in found] == [endpoint.resource_name]
    assert endpoint.gca_resource.deployed_models[0].model_version_id == "1"


# -- operations ---------------------------------------------------------------------------------


def test_an_operation_is_done_once_every_instance_has_seen_the_change(vertex, iris):
    """A deploy's operation answers not done until REFRESH_SECONDS (0.2 s here) have passed;
    then done, with its response, from any of its paths (the SDK polls the /ui/ one)."""
    from google.cloud import aiplatform

    vertex.init_sdk()
    model = aiplatform.Model.upload(
        display_name="iris-op",
        artifact_uri=vertex.artifact(f"iris-op-{uuid.uuid4().hex[:6]}", "model.joblib", iris.model),
        serving_container_image_uri=SKLEARN_IMAGE,
    )
    endpoint = aiplatform.Endpoint.create(display_name="iris-op")
    started = requests.post(
        f"{vertex.url}/v1/{endpoint.resource_name}:deployModel",
        json={"deployedModel": {"model": model.resource_name}, "trafficSplit": {"0": 100}},
        timeout=30,
    ).json()
    assert started["name"].startswith(f"{endpoint.resource_name}/operations/")
    assert "done" not in started
    assert "response" not in started
    assert started["metadata"]["@type"].endswith("v1.DeployModelOperationMetadata")
    waited = requests.post(
        f"{vertex.url}/v1/{started['name']}:wait", json={"timeout": "10s"}, timeout=30
    ).json()
    assert waited["done"] is True
    for api in ("v1", "ui"):
        polled = requests.get(f"{vertex.url}/{api}/{started['name']}", timeout=30).json()
        assert polled["response"]["@type"].endswith("v1.DeployModelResponse")
        assert polled["response"]["deployedModel"]["modelVersionId"] == "1"
    listed = requests.get(f"{vertex.url}/v1/{endpoint.resource_name}/operations", timeout=30)
    assert started["name"] in [o["name"] for o in listed.json()["operations"]]

    # A deployed model with traffic is undeployed only when a new split takes it away.
    first = endpoint.list_models()[0].id
    model.deploy(endpoint=endpoint, traffic_percentage=50, machine_type="n1-standard-2")
    refused = requests.post(
        f"{vertex.url}/v1/{endpoint.resource_name}:undeployModel",
        json={"deployedModelId": first},
        timeout=30,
    )
    assert _error(refused)["status"] == "FAILED_PRECONDITION"
    endpoint.undeploy_all()
    assert endpoint.traffic_split == {}


# -- what is refused ----------------------------------------------------------------------------


def test_uploading_an_artifact_that_does_not_load_fails_the_operation(vertex):
    from google.api_core import exceptions
    from google.cloud import aiplatform

    vertex.init_sdk()
    folder = f"broken-{uuid.uuid4().hex[:6]}"
    vertex.put(f"{folder}/model.joblib", b"this is not a pickle")
    with pytest.raises(exceptions.InvalidArgument, match="does not load"):
        aiplatform.Model.upload(
            display_name="broken",
            artifact_uri=f"gs://{vertex.data_bucket}/{folder}",
            serving_container_image_uri=SKLEARN_IMAGE,
        )
    with pytest.raises(exceptions.InvalidArgument, match="holds no model file"):
        aiplatform.Model.upload(
            display_name="empty",
            artifact_uri=f"gs://{vertex.data_bucket}/nothing-{uuid.uuid4().hex[:6]}",
            serving_container_image_uri=SKLEARN_IMAGE,
        )
    # TensorFlow has no local engine: UNIMPLEMENTED, not an invented model.
    with pytest.raises(exceptions.MethodNotImplemented, match="TensorFlow"):
        aiplatform.Model.upload(
            display_name="tf",
            artifact_uri=f"gs://{vertex.data_bucket}/{folder}",
            serving_container_image_uri=TF_IMAGE,
        )


def test_mutate_and_update_keep_what_they_are_given(vertex, deployed):
    _, endpoint = deployed
    only = endpoint.list_models()[0].id
    mutated = requests.post(
        f"{vertex.url}/v1/{endpoint.resource_name}:mutateDeployedModel",
        json={
            "deployedModel": {"id": only, "dedicatedResources": {"maxReplicaCount": 3}},
            "updateMask": "dedicatedResources.maxReplicaCount",
        },
        timeout=30,
    ).json()
    waited = requests.post(f"{vertex.url}/v1/{mutated['name']}:wait", json={}, timeout=30)
    deployed_model = waited.json()["response"]["deployedModel"]
    assert deployed_model["dedicatedResources"]["maxReplicaCount"] == 3
    endpoint.update(description="scores irises", labels={"team": "botany"})
    assert endpoint.gca_resource.description == "scores irises"
    assert endpoint.gca_resource.deployed_models[0].dedicated_resources.max_replica_count == 3


def test_deploying_to_an_unknown_endpoint_is_not_found(vertex, deployed):
    from google.api_core import exceptions
    from google.cloud import aiplatform

    model, _ = deployed
    with pytest.raises(exceptions.NotFound, match="endpoints/424242` not found"):
        model.deploy(endpoint=aiplatform.Endpoint("424242"), machine_type="n1-standard-2")
    response = requests.post(
        f"{vertex.url}/v1/{PARENT}/endpoints/424242:deployModel",
        json={"deployedModel": {"model": model.resource_name}, "trafficSplit": {"0": 100}},
        timeout=30,
    )
    assert response.status_code == 404
    assert _error(response)["status"] == "NOT_FOUND"


def test_a_split_that_does_not_sum_to_100_is_refused(vertex, deployed):
    from google.api_core import exceptions

    model, endpoint = deployed
    only = endpoint.list_models()[0].id
    with pytest.raises(exceptions.BadRequest, match="sum to 100"):
        endpoint.update(traffic_split={only: 60})
    response = requests.post(
        f"{vertex.url}/v1/{endpoint.resource_name}:deployModel",
        json={"deployedModel": {"model": model.resource_name}, "trafficSplit": {"0": 50}},
        timeout=30,
    )
    assert response.status_code == 400
    assert _error(response)["status"] == "INVALID_ARGUMENT"
    assert endpoint.list_models()[0].id == only  # nothing was deployed


def test_deleting_what_is_in_use_is_a_failed_precondition(vertex, deployed):
    model, endpoint = deployed
    for in_use in (model.resource_name, endpoint.resource_name):
        response = requests.delete(f"{vertex.url}/v1/{in_use}", timeout=30)
        assert response.status_code == 400
        assert _error(response)["status"] == "FAILED_PRECONDITION"
        assert "undeploy" in _error(response)["message"]
    response = requests.post(
        f"{vertex.url}/v1/{endpoint.resource_name}:undeployModel",
        json={"deployedModelId": "42"},
        timeout=30,
    )
    assert _error(response)["status"] == "NOT_FOUND"


def test_ids_in_use_are_already_exists(vertex, deployed):
    from google.api_core import exceptions
    from google.cloud import aiplatform

    model, _ = deployed
    tag = uuid.uuid4().hex[:6]
    aiplatform.Endpoint.create(display_name="mine", endpoint_id=f"ep-{tag}")
    with pytest.raises(exceptions.Conflict, match="already exists"):
        aiplatform.Endpoint.create(display_name="again", endpoint_id=f"ep-{tag}")
    upload = {
        "display_name": "mine",
        "artifact_uri": model.uri,
        "serving_container_image_uri": SKLEARN_IMAGE,
    }
    aiplatform.Model.upload(model_id=f"m-{tag}", **upload)
    with pytest.raises(exceptions.Conflict, match="already exists"):
        aiplatform.Model.upload(model_id=f"m-{tag}", **upload)
    # Vertex generates numeric ids; the ones a caller picks start with a letter.
    with pytest.raises(exceptions.BadRequest, match="Invalid endpoint_id"):
        aiplatform.Endpoint.create(display_name="numeric", endpoint_id="1234567890123")


def test_an_endpoint_without_traffic_answers_as_vertex_does(vertex):
    from google.api_core import exceptions
    from google.cloud import aiplatform

    vertex.init_sdk()
    empty = aiplatform.Endpoint.create(display_name="empty")
    with pytest.raises(exceptions.BadRequest, match="doesn't have traffic_split"):
        empty.predict(instances=[[1.0, 2.0, 3.0, 4.0]])
    empty.delete()


def test_bad_bodies_get_googles_error_json(vertex):
    for method, path, data in [
        ("POST", f"{PARENT}/models:upload", b"{not json"),
        ("POST", f"{PARENT}/models:upload", b'{"model": {"displayName": "x"}, "colour": 1}'),
        ("POST", f"{PARENT}/endpoints", b'{"description": "no display name"}'),
        ("GET", f"{PARENT}/models?filter=createTime%3E1", b""),
    ]:
        response = requests.request(
            method,
            f"{vertex.url}/v1/{path}",
            data=data,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 400, (path, response.text)
        assert _error(response)["status"] == "INVALID_ARGUMENT"
