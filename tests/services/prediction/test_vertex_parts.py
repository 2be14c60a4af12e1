"""The pure parts behind ModelService and EndpointService (names, ids, list filters), and how
one process's deployments follow endpoint records it did not write itself."""

from __future__ import annotations

import uuid

import pytest

from services.prediction import vertex_names
from services.prediction.endpoint_records import EndpointRecords, records_prefix
from services.prediction.endpoints import Deployments
from services.prediction.vertex_rest import matcher
from shared.errors import ApiError
from shared.registry import Registry
from tests.services.prediction.conftest import BUCKET

L = "projects/p/locations/us-central1"


@pytest.mark.parametrize(
    ("resource", "parsed"),
    [
        (f"{L}/models/cancer", ("p", "us-central1", "cancer", None)),
        (f"{L}/models/123@2", ("p", "us-central1", "123", "2")),
        (f"{L}/models/123@golden", ("p", "us-central1", "123", "golden")),
    ],
)
def test_model_resource_names(resource, parsed):
    assert tuple(vertex_names.parse_model(resource, "model")) == parsed


@pytest.mark.parametrize(
    "resource", ["cancer", f"{L}/models/", f"{L}/models/a@b@c", f"{L}/endpoints/1", ""]
)
def test_malformed_model_names_are_invalid_argument(resource):
    with pytest.raises(ApiError, match="Invalid model"):
        vertex_names.parse_model(resource, "model")


@pytest.mark.parametrize(
    ("endpoint_id", "ok"),
    [("mine", True), ("a-b-1", True), ("123456789", True), ("1234567890", False),
     ("0123", False), ("-a", False), ("a-", False), ("Ab", False)],
)  # fmt: skip
def test_endpoint_ids_a_caller_may_choose(endpoint_id, ok):
    if ok:
        assert vertex_names.check_endpoint_id(endpoint_id) == endpoint_id
    else:
        with pytest.raises(ApiError, match="Invalid endpoint_id"):
            vertex_names.check_endpoint_id(endpoint_id)


def test_generated_ids_are_19_digits_and_never_a_chosen_model_id():
    ids = {vertex_names.new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 19 and i.isdigit() for i in ids)
    with pytest.raises(ApiError):
        vertex_names.check_model_id(next(iter(ids)))


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("", ["a", "b", "c"]),
        ('display_name="Alpha"', ["a"]),
        ("displayName!=Alpha", ["b", "c"]),
        ("labels.team=risk", ["a", "c"]),
        ('labels.team="risk" AND display_name=Gamma', ["c"]),
        ("labels.team:*", ["a", "b", "c"]),
        ("labels:owner", ["b"]),
    ],
)
def test_list_filters(text, kept):
    resources = [
        {"id": "a", "displayName": "Alpha", "labels": {"team": "risk"}},
        {"id": "b", "displayName": "Beta", "labels": {"team": "ops", "owner": "x"}},
        {"id": "c", "displayName": "Gamma", "labels": {"team": "risk"}},
    ]
    keep = matcher(text, {"display_name": "displayName", "displayName": "displayName"})
    assert [r["id"] for r in resources if keep(r)] == kept


@pytest.mark.parametrize("text", ["create_time>1", "display_name", "labels.a<2", "x=1"])
def test_unsupported_filters_are_invalid_argument(text):
    with pytest.raises(ApiError, match="Unsupported filter"):
        matcher(text, {"display_name": "displayName"})


def test_records_sit_beside_the_registry_folder():
    assert records_prefix(Registry("b", "models")) == "endpoints"
    assert records_prefix(Registry("b", "team-a/models")) == "team-a/endpoints"


def test_a_process_follows_records_written_elsewhere(registry):
    """Another instance deploys, re-splits and deletes: this one's poller follows."""
    records = EndpointRecords(registry.storage, BUCKET, f"endpoints-{uuid.uuid4().hex[:6]}")
    deployments = Deployments(registry, refresh_seconds=0, records=records)
    record = {
        "deployedModels": [
            {"id": "11", "model": "cancer", "modelVersionId": "1"},
            {"id": "22", "model": "cancer-xgb", "modelVersionId": "1"},
        ],
        "trafficSplit": {"11": 100},
    }
    records.create("7", record)
    first = deployments.get("7")
    assert (first.record, first.traffic(), list(first.models)) == (True, {"11": 100}, ["11"])
    found, generation = records.find("7")
    records.update("7", {**found, "trafficSplit": {"11": 30, "22": 70}}, generation)
    assert deployments.refresh() == ["7"]
    assert deployments.get("7").member("22").model == "cancer-xgb"
    assert deployments.deployed("7", "22")[1].version.name == "cancer-xgb"
    records.delete("7")
    assert deployments.refresh() == ["7"]
    with pytest.raises(ApiError, match="not found"):
        deployments.get("7")
