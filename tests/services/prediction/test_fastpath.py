"""`:predict` without Flask (services/prediction/fastpath.py) answers exactly what the Flask
route answers: the same bytes for good requests, Google's error JSON for bad ones (which go
through Flask), the same metrics. The session's service runs without the access log (the fast
path); a second one here runs with it (every request through Flask)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from tests.conftest import ServiceProcess
from tests.services.prediction.conftest import BUCKET, endpoint_name


@pytest.fixture(scope="module")
def flask_service(tmp_path_factory, registry, storage_emulator):
    service = ServiceProcess(
        "prediction",
        "prediction",
        env={
            "STORAGE_EMULATOR_HOST": storage_emulator,
            "REGISTRY_BUCKET": BUCKET,
            "PREDICTION_ACCESS_LOG": "true",
        },
        log_path=tmp_path_factory.mktemp("prediction-flask") / "service.log",
    )
    yield service
    service.stop()


def _post(url: str, body: bytes, headers: dict[str, str] | None = None):
    request = urllib.request.Request(
        url, body, {"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def _cases(trained) -> list[tuple[str, str, bytes, dict[str, str]]]:
    cancer = trained["cancer-1"].X[:3].tolist()
    named = dict(zip(trained["cancer-1"].names, cancer[0], strict=True))
    iris = trained["iris-lgb"].X[:2].tolist()
    good = json.dumps({"instances": cancer}).encode()
    return [
        ("cancer", "", good, {"X-Mlapi-Sticky-Key": "user-7"}),
        ("cancer", "?%24alt=json%3Benum-encoding%3Dint", good, {"X-Mlapi-Sticky-Key": "u"}),
        ("cancer", "", json.dumps({"instances": [named]}).encode(), {"X-Mlapi-Sticky-Key": "u"}),
        (
            "cancer",
            "",
            json.dumps({"instances": cancer, "parameters": {"stickyKey": 3}}).encode(),
            {},
        ),
        ("iris-lgb", "", json.dumps({"instances": iris}).encode(), {}),
        ("cancer", "", b"{not json", {}),
        ("cancer", "", b'{"instances": [[1, 2]]}', {}),
        ("cancer", "", b'{"instances": [[1]], "colour": 1}', {}),
        ("cancer", "", b'{"instances": [], "parameters": 3}', {}),
        ("no-such-model", "", good, {}),
        ("cancer", "?alt=proto", good, {}),
    ]


def test_fast_and_flask_paths_answer_the_same_bytes(prediction_service, flask_service, trained):
    for endpoint, query, body, headers in _cases(trained):
        path = f"/v1/{endpoint_name(endpoint)}:predict{query}"
        fast = _post(prediction_service.url + path, body, headers)
        slow = _post(flask_service.url + path, body, headers)
        assert fast == slow, (endpoint, query, body[:80])
        assert fast[1] == "application/json"


def test_fast_path_requests_are_counted(prediction_service, trained):
    def counted() -> int:
        with urllib.request.urlopen(f"{prediction_service.url}/metrics") as response:
            text = response.read().decode()
        pattern = (
            r'mlapi_prediction_requests_total\{endpoint="iris-lgb",version="1",'
            r'method="predict",code="OK"\} (\d+)'
        )
        match = re.search(pattern, text)
        return int(match.group(1)) if match else 0

    before = counted()
    body = json.dumps({"instances": trained["iris-lgb"].X[:4].tolist()}).encode()
    for _ in range(3):
        status, _, _ = _post(
            f"{prediction_service.url}/v1/{endpoint_name('iris-lgb')}:predict", body
        )
        assert status == 200
    assert counted() == before + 3
