"""A model that is not in the registry is reported as missing, NOT_FOUND, wherever it is named:
never as an existing model that merely lacks the alias, version or split asked for."""

from __future__ import annotations

import uuid

import joblib
import pytest
from click.testing import CliRunner

from local.models_cli import models as cli
from services.batch_prediction.modelcache import ModelCache, parse_ref
from shared.errors import ApiError
from shared.registry import Registry
from shared.storage import Storage
from tests.services.prediction import models


@pytest.fixture
def registry(storage_env, monkeypatch) -> Registry:
    bucket = f"missing-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REGISTRY_BUCKET", bucket)
    storage = Storage("test-project")
    storage.ensure_bucket(bucket)
    return Registry(bucket, storage=storage)


def test_a_batch_reference_to_a_missing_model_says_it_does_not_exist(registry):
    with pytest.raises(ApiError) as caught:
        ModelCache(registry).resolve(parse_ref("nosuch@champion"))
    assert caught.value.code.name == "NOT_FOUND"
    assert caught.value.message.startswith(
        f"Model 'nosuch' does not exist in gs://{registry.bucket}/models/"
    )
    assert "champion" not in caught.value.message


@pytest.mark.parametrize(
    "argv",
    [
        ["alias", "nosuch", "champion", "1"],
        ["alias", "nosuch", "champion", "--delete"],
        ["split", "nosuch", "1=100"],
    ],
)
def test_the_cli_says_a_missing_model_does_not_exist(registry, argv):
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 1
    assert result.stderr.startswith("NOT_FOUND: Model 'nosuch' does not exist")


def test_an_existing_model_still_names_the_missing_version(tmp_path, registry):
    artifact = tmp_path / "model.joblib"
    joblib.dump(models.iris_forest().model, artifact)
    assert CliRunner().invoke(cli, ["register", "iris", str(artifact)]).exit_code == 0
    with pytest.raises(ApiError, match="Model 'iris' has no version 'champion'"):
        ModelCache(registry).resolve(parse_ref("iris@champion"))
