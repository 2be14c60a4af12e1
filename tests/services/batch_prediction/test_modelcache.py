"""The versions a batch service keeps loaded are the registry's current ones."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from services.batch_prediction.modelcache import ModelCache, ModelRef
from shared.registry import Registry
from shared.storage import Storage
from tests.services.batch_prediction import models


@pytest.fixture
def registry(storage_env) -> Registry:
    bucket = f"cache-{uuid.uuid4().hex[:8]}"
    storage = Storage("test-project")
    storage.ensure_bucket(bucket)
    return Registry(bucket, storage=storage)


def test_a_model_made_again_under_its_name_is_loaded_afresh(registry):
    cache = ModelCache(registry)
    X = models.data(20, seed=3)
    models.register(registry, "m", models.linear(), kind="regression", aliases=())
    first = cache.get(cache.resolve(ModelRef("m", "1")))
    registry.delete_model("m")
    scaled = models.linear()
    scaled.coef_ = scaled.coef_ * 2  # another model, the same shape

    again = models.register(registry, "m", scaled, kind="regression", aliases=())
    served = cache.get(cache.resolve(ModelRef("m", "1")))

    assert again.version == "1"  # a new model of the same name: its ids start again
    assert served is not first
    np.testing.assert_allclose(served.predict_raw(X), scaled.predict(X))
