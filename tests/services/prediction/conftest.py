"""The prediction service as a real process over a registry in the storage emulator, and the
official google-cloud-aiplatform client pointed at it."""

from __future__ import annotations

import pytest

from local.clients import api_client
from shared.registration import register_model
from shared.registry import Registry
from shared.storage import Storage
from tests.conftest import ServiceProcess
from tests.services.prediction import models

BUCKET = "test-models"
LOG_BUCKET = "test-prediction-logs"


def official_client(url: str):
    from google.cloud.aiplatform_v1 import PredictionServiceClient

    return api_client(PredictionServiceClient, url)


def endpoint_name(endpoint: str) -> str:
    return f"projects/test-project/locations/us-central1/endpoints/{endpoint}"


@pytest.fixture(scope="session")
def emulator_env(storage_emulator):
    """STORAGE_EMULATOR_HOST for this whole test process (the registry fixtures are shared)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        yield storage_emulator


@pytest.fixture(scope="session")
def trained() -> dict[str, models.Trained]:
    return {
        "cancer-1": models.cancer_logistic(1.0),
        "cancer-2": models.cancer_logistic(0.01),
        "cancer-xgb": models.cancer_xgboost(),
        "diabetes-lgb": models.diabetes_lightgbm(),
        "iris-lgb": models.iris_lightgbm_multiclass(),
        "iris-rf": models.iris_forest(),
        "mixed": models.mixed_types(),
    }


def register(registry: Registry, name: str, trained: models.Trained, **kwargs):
    return register_model(
        registry,
        name,
        trained.model,
        feature_names=trained.names,
        feature_types=trained.types,
        training_data=trained.X,
        output_kind=trained.kind,
        classes=trained.classes,
        **kwargs,
    )


@pytest.fixture(scope="session")
def registry(emulator_env, trained) -> Registry:
    """The shared registry: `cancer` (versions 1 and 2, split 90/10 by alias), one model per
    framework, and `broken` (version 2 is a corrupt artifact)."""
    storage = Storage("test-project")
    storage.ensure_bucket(BUCKET)
    storage.ensure_bucket(LOG_BUCKET)
    registry = Registry(BUCKET, storage=storage)
    register(registry, "cancer", trained["cancer-1"], aliases=["champion"])
    register(registry, "cancer", trained["cancer-2"], aliases=["challenger"])
    registry.set_split("cancer", {"champion": 90, "challenger": 10})
    for name in ("cancer-xgb", "diabetes-lgb", "iris-lgb", "iris-rf", "mixed"):
        register(registry, name, trained[name], aliases=["champion"])
    register(registry, "broken", trained["cancer-1"])
    good = registry.get("broken", "1")
    registry.register(
        type(good)(**{**good.__dict__, "version": "2", "create_time": ""}), b"not a model"
    )
    registry.set_split("broken", {"1": 50, "2": 50})
    return registry


@pytest.fixture(scope="session")
def prediction_service(tmp_path_factory, registry, storage_emulator):
    service = ServiceProcess(
        "prediction",
        "prediction",
        env={
            "STORAGE_EMULATOR_HOST": storage_emulator,
            "REGISTRY_BUCKET": BUCKET,
            "PREDICTION_REFRESH_SECONDS": "0.2",
            "PREDICTION_REQUEST_LOG_SAMPLE_RATE": "1",
            "PREDICTION_REQUEST_LOG_BUCKET": LOG_BUCKET,
            "PREDICTION_REQUEST_LOG_FLUSH_SECONDS": "0.3",
            # As deployed: no access log, so `:predict` takes the fast path (fastpath.py).
            "PREDICTION_ACCESS_LOG": "false",
        },
        log_path=tmp_path_factory.mktemp("prediction") / "service.log",
    )
    yield service
    service.stop()


@pytest.fixture(scope="session")
def client(prediction_service):
    return official_client(prediction_service.url)


# -- one Vertex AI host in front of real prediction and batch prediction processes ------------

VERTEX_MODELS, VERTEX_RESULTS, VERTEX_DATA = (
    "test-vertex-models",
    "test-vertex-results",
    "test-vertex-data",
)


@pytest.fixture(scope="session")
def vertex(tmp_path_factory, emulator_env, storage_emulator):
    """`local.vertex_host` on a free port routing to a prediction and a batch prediction
    process over their own registry, with the high-level SDK pointed at it (nothing but
    `aiplatform.init`). Yields the host (`url`, `registry`, `gcs`, `data_bucket`)."""
    from tests.services.prediction import vertex_stack

    host = vertex_stack.start(
        tmp_path_factory, storage_emulator, VERTEX_MODELS, VERTEX_RESULTS, VERTEX_DATA
    )
    yield host
    host.stop()
