"""The official google-cloud-aiplatform client against the running service: predict,
raw_predict and explain answer what the models compute in-process."""

from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest
from google.api import httpbody_pb2
from google.protobuf import json_format

from tests.services.prediction.conftest import endpoint_name

ROWS = slice(0, 5)


def as_json(message) -> dict:
    return json_format.MessageToDict(type(message).pb(message))


def expected_predictions(trained, rows) -> list:
    model = trained.model
    if trained.kind == "classification":
        scores = model.predict_proba(rows)
        return [{"classes": trained.classes, "scores": list(s)} for s in scores]
    return [p.item() if hasattr(p, "item") else p for p in model.predict(rows)]


def assert_same(answer: list, expected: list) -> None:
    assert len(answer) == len(expected)
    for got, want in zip(answer, expected, strict=True):
        if isinstance(want, dict):
            assert got["classes"] == want["classes"]
            assert got["scores"] == pytest.approx(want["scores"], rel=1e-12, abs=1e-15)
        else:
            assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(
    ("endpoint", "model_key"),
    [
        ("cancer-xgb", "cancer-xgb"),
        ("diabetes-lgb", "diabetes-lgb"),
        ("iris-lgb", "iris-lgb"),
        ("iris-rf", "iris-rf"),
    ],
)
def test_predict_equals_in_process(client, trained, endpoint, model_key):
    model = trained[model_key]
    rows = model.X[ROWS]
    response = client.predict(endpoint=endpoint_name(endpoint), instances=rows.tolist())
    body = as_json(response)
    assert_same(body["predictions"], expected_predictions(model, rows))
    assert body["deployedModelId"] == "1"
    assert body["modelVersionId"] == "1"
    assert body["modelDisplayName"] == endpoint
    assert body["model"] == f"projects/test-project/locations/us-central1/models/{endpoint}"


def test_predict_on_a_split_answers_the_version_that_served(client, trained):
    rows = trained["cancer-1"].X[ROWS]
    seen = set()
    for key in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"):
        response = client.predict(
            endpoint=endpoint_name("cancer"),
            instances=rows.tolist(),
            parameters={"stickyKey": key},
        )
        version = response.deployed_model_id
        seen.add(version)
        assert_same(
            as_json(response)["predictions"],
            expected_predictions(trained[f"cancer-{version}"], rows),
        )
    assert "1" in seen


def test_instances_as_objects_keyed_by_feature_name(client, trained):
    model = trained["mixed"]
    rows = model.X[ROWS]
    instances = [dict(zip(model.names, row, strict=True)) for row in rows.tolist()]
    response = client.predict(endpoint=endpoint_name("mixed"), instances=instances)
    assert as_json(response)["predictions"] == model.model.predict(rows).tolist()


def test_raw_predict_through_the_official_client(client, trained):
    model = trained["diabetes-lgb"]
    rows = model.X[ROWS]
    body = json.dumps({"instances": rows.tolist()}).encode()
    answer = client.raw_predict(
        endpoint=endpoint_name("diabetes-lgb"),
        http_body=httpbody_pb2.HttpBody(content_type="application/json", data=body),
    )
    assert answer.content_type == "application/json"
    assert_same(json.loads(answer.data)["predictions"], expected_predictions(model, rows))


def test_raw_predict_over_plain_http_passes_the_body_through(prediction_service, trained):
    model = trained["iris-rf"]
    rows = model.X[ROWS]
    request = urllib.request.Request(
        f"{prediction_service.url}/v1/{endpoint_name('iris-rf')}:rawPredict",
        json.dumps({"instances": rows.tolist()}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.headers["X-Vertex-AI-Endpoint-Id"] == "iris-rf"
        assert response.headers["X-Vertex-AI-Deployed-Model-Id"] == "1"
        answer = json.load(response)
    assert set(answer) == {"predictions"}
    assert_same(answer["predictions"], expected_predictions(model, rows))


def attributions(response) -> list[dict]:
    body = as_json(response)
    return [e["attributions"][0] for e in body["explanations"]]


def test_explain_linear_is_exact_coef_times_distance_from_the_mean(client, trained):
    model = trained["cancer-1"]
    rows = model.X[ROWS]
    response = client.explain(
        endpoint=endpoint_name("cancer"), instances=rows.tolist(), deployed_model_id="1"
    )
    assert response.deployed_model_id == "1"
    scaler, logistic = model.model[0], model.model[-1]
    weights = logistic.coef_[0] / scaler.scale_
    mean = model.X.mean(axis=0)
    for row, attribution in zip(rows, attributions(response), strict=True):
        got = [attribution["featureAttributions"][n] for n in model.names]
        assert got == pytest.approx(weights * (row - mean), rel=1e-7, abs=1e-9)
        assert attribution["instanceOutputValue"] == pytest.approx(
            model.model.decision_function(row[None])[0], rel=1e-9
        )
        assert attribution["baselineOutputValue"] == pytest.approx(
            model.model.decision_function(mean[None])[0], rel=1e-9
        )
        assert attribution["outputIndex"] == [1]
        assert attribution["outputDisplayName"] == "benign"
        assert attribution.get("approximationError", 0.0) < 1e-9


def test_explain_deployed_model_id_overrides_the_split(client, trained):
    rows = trained["cancer-2"].X[ROWS]
    for key in ("a", "b", "c", "d"):
        response = client.explain(
            endpoint=endpoint_name("cancer"),
            instances=rows.tolist(),
            deployed_model_id="2",
            parameters={"stickyKey": key},
        )
        assert response.deployed_model_id == "2"


def test_explain_xgboost_uses_its_own_treeshap(client, trained):
    import xgboost

    model = trained["cancer-xgb"]
    rows = model.X[ROWS]
    booster = model.model.get_booster()
    contribs = booster.predict(xgboost.DMatrix(rows), pred_contribs=True)
    response = client.explain(endpoint=endpoint_name("cancer-xgb"), instances=rows.tolist())
    for expected, attribution in zip(contribs, attributions(response), strict=True):
        got = [attribution["featureAttributions"][n] for n in model.names]
        assert got == pytest.approx(expected[:-1].tolist(), rel=1e-5, abs=1e-6)
        assert attribution["baselineOutputValue"] == pytest.approx(float(expected[-1]), rel=1e-6)
        assert attribution["instanceOutputValue"] == pytest.approx(float(expected.sum()), rel=1e-5)


@pytest.mark.parametrize("endpoint", ["diabetes-lgb", "iris-lgb"])
def test_explain_lightgbm_uses_its_own_treeshap(client, trained, endpoint):
    model = trained[endpoint]
    rows = model.X[ROWS]
    contribs = np.asarray(model.model.booster_.predict(rows, pred_contrib=True))
    width = rows.shape[1] + 1
    response = client.explain(endpoint=endpoint_name(endpoint), instances=rows.tolist())
    for expected, attribution in zip(contribs, attributions(response), strict=True):
        if expected.shape[0] > width:
            blocks = expected.reshape(-1, width)
            index = int(blocks.sum(axis=1).argmax())
            assert attribution["outputIndex"] == [index]
            expected = blocks[index]
        got = [attribution["featureAttributions"][n] for n in model.names]
        assert got == pytest.approx(expected[:-1].tolist(), rel=1e-9, abs=1e-12)
        assert attribution["instanceOutputValue"] == pytest.approx(float(expected.sum()))


def test_explain_sklearn_forest_attributions_add_up_to_the_probability(client, trained):
    model = trained["iris-rf"]
    rows = model.X[[0, 60, 120]]
    response = client.explain(endpoint=endpoint_name("iris-rf"), instances=rows.tolist())
    probabilities = model.model.predict_proba(rows)
    for row, attribution in zip(probabilities, attributions(response), strict=True):
        index = attribution["outputIndex"][0]
        assert index == int(row.argmax())
        assert attribution["outputDisplayName"] == model.classes[index]
        assert attribution["instanceOutputValue"] == pytest.approx(row[index], abs=1e-12)
        total = sum(attribution["featureAttributions"].values())
        assert attribution["baselineOutputValue"] + total == pytest.approx(row[index], abs=1e-9)


def test_explain_other_models_by_sampled_shapley(client, trained):
    model = trained["mixed"]
    rows = model.X[ROWS]
    from google.cloud.aiplatform_v1 import ExplainRequest

    request = json_format.ParseDict(
        {
            "endpoint": endpoint_name("mixed"),
            "instances": rows.tolist(),
            "explanationSpecOverride": {
                "parameters": {"sampledShapleyAttribution": {"pathCount": 8}}
            },
        },
        ExplainRequest.pb()(),
    )
    response = client.explain(request=ExplainRequest.wrap(request))
    probabilities = model.model.predict_proba(rows)
    for row, attribution in zip(probabilities, attributions(response), strict=True):
        assert attribution["outputName"] == "probability"
        index = attribution["outputIndex"][0]
        assert attribution["instanceOutputValue"] == pytest.approx(row[index])
        total = sum(attribution["featureAttributions"].values())
        assert attribution["baselineOutputValue"] + total == pytest.approx(row[index])
        assert attribution["approximationError"] >= 0
