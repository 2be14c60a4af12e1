"""Request logging: sampled instances and predictions land in storage as JSONL lines in the
documented form."""

from __future__ import annotations

import json
import time

import numpy as np

from services.prediction.metrics import Metrics
from services.prediction.requestlog import RequestLog
from shared.modelruntime import load
from shared.storage import Storage
from tests.services.prediction.conftest import LOG_BUCKET, endpoint_name, register


def read_lines(gcs, prefix: str) -> list[dict]:
    lines = []
    for blob in gcs.list_blobs(LOG_BUCKET, prefix=prefix):
        assert blob.name.endswith(".jsonl")
        lines += [json.loads(line) for line in blob.download_as_bytes().splitlines()]
    return lines


def test_served_instances_are_logged_as_jsonl(client, registry, trained, gcs):
    model = trained["iris-rf"]
    register(registry, "logged", model, aliases=["champion"])
    rows = model.X[[0, 50, 100]]
    response = client.predict(endpoint=endpoint_name("logged"), instances=rows.tolist())
    deadline = time.monotonic() + 15
    lines: list[dict] = []
    while time.monotonic() < deadline and len(lines) < 3:
        lines = read_lines(gcs, "prediction-logs/logged/logged/1/")
    assert len(lines) == 3
    first = lines[0]
    assert set(first) == {
        "time",
        "endpoint",
        "model",
        "modelVersionId",
        "deployedModelId",
        "instance",
        "prediction",
    }
    assert first["endpoint"] == "logged"
    assert first["modelVersionId"] == "1"
    assert first["time"].endswith("Z")
    logged = sorted(
        (line["instance"]["sepal_length"], line["prediction"]["scores"]) for line in lines
    )
    served = sorted(
        zip(rows[:, 0].tolist(), [list(p["scores"]) for p in response.predictions], strict=True)
    )
    assert logged == served
    assert list(first["instance"]) == model.names


def test_sampling_rate_and_the_drop_counter(registry, trained, monkeypatch):
    import random

    from services.prediction import requestlog

    served = load(
        registry.get("iris-rf", "1"), registry.read_artifact(registry.get("iris-rf", "1"))
    )
    matrix = np.resize(trained["iris-rf"].X, (1000, 4))
    predictions = served.predict(matrix)
    metrics = Metrics()
    log = RequestLog(Storage("test-project"), LOG_BUCKET, "sampled", 0.1, 3600, metrics)
    random.seed(7)
    monkeypatch.setattr(requestlog, "_MAX_WAITING", 150)
    log.record("e", served, matrix, predictions)
    kept = log._waiting
    assert 60 <= kept <= 140  # Binomial(1000, 0.1): mean 100, sd 9.5
    log.record("e", served, matrix, predictions)
    assert log._waiting == 150
    assert metrics.dropped_log_lines > 0
    written = log.flush()
    assert len(written) == 1
    assert written[0].name.startswith("sampled/e/iris-rf/1/")
    log.close()
