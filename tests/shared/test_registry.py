"""The model registry on the storage emulator: versions, metadata, aliases, splits."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.errors import ApiError
from shared.modelschema import Feature, InputSchema
from shared.registry import ModelVersion, Registry
from shared.storage import Storage

SCHEMA = InputSchema((Feature("x"), Feature("colour", "string")))


@pytest.fixture
def registry(storage_env) -> Registry:
    storage = Storage("test-project")
    bucket = f"registry-{uuid.uuid4().hex[:8]}"
    storage.ensure_bucket(bucket)
    return Registry(bucket, storage=storage)


def version(name: str = "m", **kwargs) -> ModelVersion:
    fields = {
        "name": name,
        "version": "",
        "framework": "sklearn",
        "artifact": "model.joblib",
        "output": {"kind": "regression"},
        "schema": SCHEMA,
        "baseline": {"count": 1, "features": {}},
        **kwargs,
    }
    return ModelVersion(**fields)


def test_register_numbers_versions_and_stores_the_layout(registry, gcs):
    first = registry.register(version(), b"artifact-1")
    second = registry.register(version(), b"artifact-2")
    assert (first.version, second.version) == ("1", "2")
    assert first.create_time.endswith("Z")
    bucket = gcs.bucket(registry.bucket)
    assert bucket.blob("models/m/2/model.joblib").download_as_bytes() == b"artifact-2"
    metadata = json.loads(bucket.blob("models/m/1/metadata.json").download_as_bytes())
    assert metadata["versionId"] == "1"
    assert metadata["framework"] == "sklearn"
    assert metadata["inputSchema"]["features"][1] == {
        "name": "colour",
        "type": "string",
        "allowMissing": False,
    }
    assert registry.get("m", "2") == second
    assert registry.read_artifact(second) == b"artifact-2"
    assert registry.versions("m") == ["1", "2"]
    assert registry.models() == ["m"]


def test_a_deleted_versions_id_is_not_given_again(registry):
    # Vertex's version ids are auto-incrementing: what keys on an id never meets two models.
    for number in ("1", "2"):
        assert registry.register(version(), f"artifact-{number}".encode()).version == number
    registry.delete_version("m", "2")
    assert registry.register(version(), b"artifact-3").version == "3"
    assert registry.versions("m") == ["1", "3"]
    assert registry.models() == ["m"]

    registry.register(version(version="7"), b"given")  # an id given by the caller counts
    registry.delete_version("m", "7")
    assert registry.register(version(), b"after").version == "8"

    registry.delete_model("m")  # a model made again under the name starts at 1
    assert registry.models() == []
    assert registry.register(version(), b"again").version == "1"


def test_versions_are_immutable(registry):
    registry.register(version(version="7"), b"a")
    with pytest.raises(ApiError, match="already has version '7'") as caught:
        registry.register(version(version="7"), b"b")
    assert caught.value.code.name == "ALREADY_EXISTS"
    assert registry.versions("m") == ["7"]
    assert registry.register(version(), b"c").version == "8"


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"name": "Bad Name"}, "Model name"),
        ({"version": "a/b"}, "Version id"),
        ({"framework": "torch"}, "Unknown framework"),
        ({"artifact": "model.pt"}, "must be named one of"),
        ({"output": {"kind": "embedding"}}, "Output kind"),
        ({"framework": "xgboost", "artifact": "model.json"}, "numeric features only"),
    ],
)
def test_register_refuses_what_cannot_serve(registry, fields, fragment):
    with pytest.raises(ApiError, match=fragment) as caught:
        registry.register(version(**fields), b"x")
    assert caught.value.code.name == "INVALID_ARGUMENT"


def test_unknown_version_is_not_found(registry):
    registry.register(version(), b"1")
    with pytest.raises(ApiError, match="has no version '3'") as caught:
        registry.get("m", "3")
    assert caught.value.code.name == "NOT_FOUND"


def test_aliases_and_split_resolve_to_versions(registry):
    registry.register(version(), b"1")
    registry.register(version(), b"2")
    empty = registry.snapshot("m")
    assert empty.generations == (0, 0)
    with pytest.raises(ApiError, match="no traffic split and no 'champion' alias"):
        empty.traffic("m")

    registry.set_alias("m", "champion", "1")
    assert registry.snapshot("m").traffic("m").percents == {"1": 100}

    registry.set_alias("m", "challenger", "2")
    registry.set_split("m", {"champion": 80, "challenger": 20})
    snapshot = registry.snapshot("m")
    assert snapshot.aliases == {"champion": "1", "challenger": "2"}
    assert snapshot.split == {"champion": 80, "challenger": 20}
    assert snapshot.traffic("m").percents == {"1": 80, "2": 20}
    assert all(snapshot.generations)
    assert registry.generations("m") == snapshot.generations

    # Both aliases on one version: their traffic adds up.
    registry.set_alias("m", "challenger", "1")
    changed = registry.snapshot("m")
    assert changed.generations[0] != snapshot.generations[0]
    assert changed.traffic("m").percents == {"1": 100}


def test_alias_and_split_guard_rails(registry):
    registry.register(version(), b"1")
    with pytest.raises(ApiError, match="has no version '9'"):
        registry.set_alias("m", "champion", "9")
    with pytest.raises(ApiError, match="must start with a lower case letter"):
        registry.set_alias("m", "Champion", "1")
    registry.register(version(version="beta"), b"b")
    with pytest.raises(ApiError, match="is a version"):
        registry.set_alias("m", "beta", "1")
    with pytest.raises(ApiError, match="has no version or alias"):
        registry.set_split("m", {"1": 50, "ghost": 50})
    with pytest.raises(ApiError, match="sum to 90"):
        registry.set_split("m", {"1": 90})
    registry.set_alias("m", "champion", "1")
    registry.set_split("m", {"champion": 100})
    with pytest.raises(ApiError, match="in the traffic split") as caught:
        registry.delete_alias("m", "champion")
    assert caught.value.code.name == "FAILED_PRECONDITION"
    registry.set_split("m", {"1": 100})
    assert registry.delete_alias("m", "champion") == {}
    with pytest.raises(ApiError, match="has no alias"):
        registry.delete_alias("m", "champion")


def test_malformed_metadata_is_data_loss(registry, gcs):
    gcs.bucket(registry.bucket).blob("models/m/1/metadata.json").upload_from_string("{oops")
    with pytest.raises(ApiError) as caught:
        registry.get("m", "1")
    assert caught.value.code.name == "DATA_LOSS"


def test_a_registry_needs_a_bucket():
    with pytest.raises(ApiError, match="REGISTRY_BUCKET"):
        Registry("")
