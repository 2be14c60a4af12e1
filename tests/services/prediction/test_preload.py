"""Models preloaded once in the parent process, then served by two forked gunicorn workers,
each of which notices a split change on its own."""

from __future__ import annotations

import time

import pytest

from tests.conftest import ServiceProcess
from tests.services.prediction.conftest import BUCKET, endpoint_name, official_client, register


@pytest.fixture(scope="module")
def preloaded(tmp_path_factory, registry, trained, storage_emulator):
    register(registry, "preloaded", trained["cancer-1"], aliases=["champion"])
    register(registry, "preloaded", trained["cancer-2"])
    service = ServiceProcess(
        "prediction",
        "prediction",
        env={
            "STORAGE_EMULATOR_HOST": storage_emulator,
            "REGISTRY_BUCKET": BUCKET,
            "PREDICTION_PRELOAD": "preloaded,nope",
            "PREDICTION_REFRESH_SECONDS": "0.2",
            "WORKERS": "2",
            "SERVER": "gunicorn",  # as the topology serves prediction: workers fork after preload
        },
        log_path=tmp_path_factory.mktemp("prediction-preload") / "service.log",
    )
    yield service
    service.stop()


def test_preloaded_models_load_once_and_both_workers_follow_changes(preloaded, registry, trained):
    logs = preloaded.logs()
    assert logs.count('"message": "model version loaded"') == 1, "loaded before the fork"
    assert "preload failed" in logs  # the unknown endpoint is logged, the service starts
    client = official_client(preloaded.url)
    row = trained["cancer-1"].X[0].tolist()
    assert {
        client.predict(endpoint=endpoint_name("preloaded"), instances=[row]).deployed_model_id
        for _ in range(20)
    } == {"1"}

    registry.set_split("preloaded", {"2": 100})
    deadline = time.monotonic() + 15
    streak = 0
    while streak < 30:  # 30 answers in a row from version 2: both workers have switched
        assert time.monotonic() < deadline, "the workers did not both pick up the new split"
        version = client.predict(endpoint=endpoint_name("preloaded"), instances=[row])
        streak = streak + 1 if version.deployed_model_id == "2" else 0
