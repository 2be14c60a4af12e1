"""The high-level Vertex AI SDK, unchanged, against the local Vertex AI host: upload, endpoint,
deploy, a second version at 10%, predict, explain, batch predict, undeploy, the registry's
aliases; once with scikit-learn and once with XGBoost.

Nothing but `aiplatform.init(project, location, api_endpoint, api_transport="rest",
credentials=AnonymousCredentials())` points the SDK here (`vertex_stack.VertexHost.init_sdk`);
the host routes to real prediction and batch prediction processes.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest

from tests.services.prediction import models
from tests.services.prediction.vertex_stack import SKLEARN_IMAGE, XGBOOST_IMAGE

REQUESTS = 300  # predictions through the 90/10 split
# A binomial count of the 10% version in REQUESTS draws stays within 4 sigma of its mean but
# for about 6 in 100,000 runs.
SIGMAS = 4.0

SCHEMA_YAML = "title: cancer\ntype: object\nproperties:\n" + "".join(
    f"  f{i}:\n    type: number\n" for i in range(30)
)


def _trained(framework: str):
    if framework == "sklearn":
        return models.cancer_logistic(1.0), models.cancer_logistic(0.01), "model.joblib"
    import xgboost
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()

    def fit(depth: int) -> models.Trained:
        model = xgboost.XGBClassifier(n_estimators=10, max_depth=depth, n_jobs=1, random_state=0)
        model.fit(data.data, data.target)
        return models.Trained(model, data.data, [f"f{i}" for i in range(30)])

    return fit(2), fit(4), "model.json"


def _expected(framework: str, trained: models.Trained, rows: np.ndarray) -> list:
    """What Vertex's prebuilt container answers: scikit-learn's `predict()`, XGBoost's
    `Booster.predict` (the positive class's probability)."""
    if framework == "sklearn":
        return trained.model.predict(rows).tolist()
    return trained.model.predict_proba(rows)[:, 1].tolist()


@pytest.mark.parametrize("framework", ["sklearn", "xgboost"])
def test_upload_deploy_split_predict_explain_batch_undeploy(vertex, framework):
    from google.api_core import exceptions
    from google.cloud import aiplatform

    vertex.init_sdk()
    first, second, file = _trained(framework)
    image = SKLEARN_IMAGE if framework == "sklearn" else XGBOOST_IMAGE
    schema = None
    if framework == "sklearn":  # the instance schema from predictSchemata, as Vertex takes it
        schema = vertex.put(f"{framework}/instance.yaml", SCHEMA_YAML)

    # Model.upload -> Endpoint.create -> model.deploy
    model = aiplatform.Model.upload(
        display_name=f"cancer-{framework}",
        artifact_uri=vertex.artifact(f"{framework}/v1", file, first.model),
        serving_container_image_uri=image,
        instance_schema_uri=schema,
        labels={"team": "risk"},
    )
    assert model.version_id == "1"
    assert "default" in model.version_aliases
    endpoint = aiplatform.Endpoint.create(display_name=f"cancer-{framework}-endpoint")
    model.deploy(endpoint=endpoint, machine_type="n1-standard-2")
    first_id = endpoint.list_models()[0].id
    assert endpoint.traffic_split == {first_id: 100}

    # A second version with parent_model, deployed at 10%.
    version_2 = aiplatform.Model.upload(
        parent_model=model.resource_name,
        display_name=f"cancer-{framework}",
        artifact_uri=vertex.artifact(f"{framework}/v2", file, second.model),
        serving_container_image_uri=image,
        instance_schema_uri=schema,
        is_default_version=False,
        version_aliases=["challenger"],
    )
    assert (version_2.resource_name, version_2.version_id) == (model.resource_name, "2")
    version_2.deploy(endpoint=endpoint, traffic_percentage=10, machine_type="n1-standard-2")
    deployed = {m.model_version_id: m.id for m in endpoint.list_models()}
    assert endpoint.traffic_split == {deployed["1"]: 90, deployed["2"]: 10}

    # endpoint.predict: each answer names its version, and the split holds.
    rows = first.X[:REQUESTS]
    by_version = {"1": first, "2": second}
    seen: Counter[str] = Counter()
    for row in rows:
        answer = endpoint.predict(instances=[row.tolist()])
        assert answer.deployed_model_id == deployed[answer.model_version_id]
        assert answer.model_resource_name == model.resource_name
        expected = _expected(framework, by_version[answer.model_version_id], row[None, :])
        assert answer.predictions == pytest.approx(expected)
        seen[answer.model_version_id] += 1
    mean, sigma = REQUESTS * 0.1, math.sqrt(REQUESTS * 0.1 * 0.9)
    assert abs(seen["2"] - mean) <= SIGMAS * sigma, seen

    # explain: attributions per feature, from the version that answered.
    explained = endpoint.explain(instances=[rows[0].tolist()])
    attributions = explained.explanations[0].attributions[0]
    assert len(dict(attributions.feature_attributions)) == 30
    assert explained.deployed_model_id in deployed.values()

    # model.batch_predict into the storage emulator, in Vertex's output layout.
    instances = "\n".join(json.dumps(row.tolist()) for row in rows[:50]) + "\n"
    source = vertex.put(f"{framework}/batch/rows.jsonl", instances)
    job = model.batch_predict(
        job_display_name=f"score-{framework}",
        gcs_source=source,
        gcs_destination_prefix=f"gs://{vertex.data_bucket}/{framework}/scored",
        instances_format="jsonl",
        predictions_format="jsonl",
        sync=True,
    )
    assert job.state.name == "JOB_STATE_SUCCEEDED"
    output = job.output_info.gcs_output_directory
    files = vertex.list(output)
    assert any(f.rsplit("/", 1)[-1].startswith("predictions_") for f in files), files
    lines = [
        json.loads(line)
        for name in files
        if name.rsplit("/", 1)[-1].startswith("predictions_")
        for line in vertex.read_text(f"gs://{vertex.data_bucket}/{name}").splitlines()
    ]
    assert len(lines) == 50
    scored = {tuple(line["instance"]): line["prediction"] for line in lines}
    expected = _expected(framework, first, rows[:50])  # version 1: the job names model@1
    assert [scored[tuple(row.tolist())] for row in rows[:50]] == pytest.approx(expected)

    # A deployed model cannot be deleted (over REST, FAILED_PRECONDITION is an HTTP 400, which
    # api-core raises as BadRequest); once undeployed it can.
    with pytest.raises(exceptions.BadRequest, match="undeploy") as refused:
        model.delete()
    assert refused.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"
    endpoint.undeploy_all()
    assert endpoint.list_models() == []
    assert endpoint.traffic_split == {}

    # Model.list and the registry's aliases (ModelRegistry).
    listed = aiplatform.Model.list(filter=f'display_name="cancer-{framework}"')
    assert [m.resource_name for m in listed] == [model.resource_name]
    registry = aiplatform.models.ModelRegistry(model)
    assert sorted(v.version_id for v in registry.list_versions()) == ["1", "2"]
    assert registry.get_model(version="challenger").version_id == "2"
    registry.add_version_aliases(["golden"], version="2")
    assert registry.get_model(version="golden").version_id == "2"
    assert sorted(registry.get_version_info("2").version_aliases) == ["challenger", "golden"]
    registry.remove_version_aliases(["golden"], version="2")
    with pytest.raises(exceptions.NotFound):
        registry.get_model(version="golden")
    registry.delete_version("2")
    assert [v.version_id for v in registry.list_versions()] == ["1"]
    endpoint.delete()
    with pytest.raises(exceptions.NotFound):
        endpoint.predict(instances=[rows[0].tolist()])
    model.delete()
    with pytest.raises(exceptions.NotFound):
        aiplatform.Model(model.resource_name)
