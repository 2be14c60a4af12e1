"""A/B over HTTP: the split picks the version, sticky keys hold, a split change takes effect
without a restart, and per-version counters and latency histograms reach /metrics.
(The 10,000-draw statistics of the split itself are in tests/shared/test_traffic.py.)"""

from __future__ import annotations

import time
import urllib.request
from collections import Counter

import pytest

from tests.services.prediction.conftest import endpoint_name, register


def versions_seen(client, endpoint: str, row, count: int, key=None) -> Counter:
    seen: Counter = Counter()
    for i in range(count):
        parameters = {"stickyKey": key} if key is not None else None
        response = client.predict(
            endpoint=endpoint_name(endpoint), instances=[row], parameters=parameters
        )
        seen[response.deployed_model_id] += 1
        del i
    return seen


def test_a_90_10_split_over_http(client, trained):
    seen = versions_seen(client, "cancer", trained["cancer-1"].X[0].tolist(), 400)
    # Binomial(400, 0.1): mean 40, sd 6; +-5 sd.
    assert 10 <= seen["2"] <= 70
    assert seen["1"] + seen["2"] == 400


def test_sticky_keys_always_get_the_same_version(client, trained, prediction_service):
    row = trained["cancer-1"].X[0].tolist()
    for key in ("alice", "bob", "carol", "dave", "erin"):
        assert len(versions_seen(client, "cancer", row, 15, key)) == 1
    # The header pins as well, and it is the same hash as the parameter.
    request = urllib.request.Request(
        f"{prediction_service.url}/v1/{endpoint_name('cancer')}:rawPredict",
        b'{"instances": [%s]}' % str(row).encode(),
        {"Content-Type": "application/json", "X-Mlapi-Sticky-Key": "alice"},
    )
    with urllib.request.urlopen(request) as response:
        by_header = response.headers["X-Vertex-AI-Deployed-Model-Id"]
    assert Counter({by_header: 15}) == versions_seen(client, "cancer", row, 15, "alice")


def wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
    pytest.fail(f"condition not met within {timeout} s")


def test_a_split_change_takes_effect_without_restart(client, registry, trained):
    register(registry, "switch", trained["cancer-1"], aliases=["champion"])
    register(registry, "switch", trained["cancer-2"])
    row = trained["cancer-1"].X[0].tolist()
    assert versions_seen(client, "switch", row, 5) == Counter({"1": 5})

    registry.set_split("switch", {"2": 100})
    wait_for(
        lambda: (
            client.predict(endpoint=endpoint_name("switch"), instances=[row]).deployed_model_id
            == "2"
        )
    )
    assert versions_seen(client, "switch", row, 10) == Counter({"2": 10})

    # Moving an alias that the split names moves its traffic too.
    registry.set_split("switch", {"champion": 100})
    wait_for(lambda: versions_seen(client, "switch", row, 1) == Counter({"1": 1}))
    registry.set_alias("switch", "champion", "2")
    wait_for(lambda: versions_seen(client, "switch", row, 1) == Counter({"2": 1}))


def test_the_endpoint_resource_shows_the_split(prediction_service):
    import json

    with urllib.request.urlopen(f"{prediction_service.url}/v1/{endpoint_name('cancer')}") as r:
        endpoint = json.load(r)
    assert endpoint["trafficSplit"] == {"1": 90, "2": 10}
    assert [m["id"] for m in endpoint["deployedModels"]] == ["1", "2"]


def test_metrics_count_and_time_each_version(client, trained, prediction_service):
    row = trained["iris-rf"].X[0].tolist()
    for _ in range(3):
        client.predict(endpoint=endpoint_name("iris-rf"), instances=[row, row])
    with urllib.request.urlopen(f"{prediction_service.url}/metrics") as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    labels = 'endpoint="iris-rf",version="1"'
    counter = f'mlapi_prediction_requests_total{{{labels},method="predict",code="OK"}}'
    counted = [line for line in text.splitlines() if line.startswith(counter)]
    assert counted
    assert int(counted[0].split()[-1]) >= 3
    assert f'mlapi_prediction_latency_seconds_bucket{{{labels},method="predict",le="+Inf"}}' in text
    assert f"mlapi_prediction_instances_total{{{labels}}}" in text
    assert "mlapi_prediction_batch_size_count" in text
