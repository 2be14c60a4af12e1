"""The custom-container contract: AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE and
AIP_STORAGE_URI, as Vertex AI sets them when it deploys the image as a model."""

from __future__ import annotations

import io
import json
import os
import subprocess
import urllib.error
import urllib.request

import joblib
import pytest

from tests.conftest import ROOT, free_port, stop, wait_for_port

DEPLOYED = "/v1/endpoints/1234/deployedModels/5678"


@pytest.fixture(scope="module")
def artifacts(emulator_env, trained, gcs_module):
    bucket = gcs_module.bucket("test-container")
    if not bucket.exists():
        bucket.create()
    buffer = io.BytesIO()
    joblib.dump(trained["iris-rf"].model, buffer)
    bucket.blob("model/model.joblib").upload_from_string(buffer.getvalue())
    bucket.blob("broken/model.joblib").upload_from_string(b"garbage")
    return "gs://test-container"


@pytest.fixture(scope="module")
def gcs_module(emulator_env):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project="test-project", credentials=AnonymousCredentials())


def start_container(storage_emulator, uri: str, tmp_path):
    port = free_port()
    log = open(tmp_path / "container.log", "wb")  # noqa: SIM115
    env = {
        **os.environ,
        "STORAGE_EMULATOR_HOST": storage_emulator,
        "AIP_HTTP_PORT": str(port),
        "AIP_STORAGE_URI": uri,
        "AIP_HEALTH_ROUTE": DEPLOYED,
        "AIP_PREDICT_ROUTE": f"{DEPLOYED}:predict",
        "AIP_DEPLOYED_MODEL_ID": "5678",
        "HOST": "127.0.0.1",
        "LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-m", "services.prediction.container"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process)
    return process, f"http://127.0.0.1:{port}", log


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_the_container_serves_the_model_in_aip_storage_uri(
    storage_emulator, artifacts, trained, tmp_path
):
    process, url, log = start_container(storage_emulator, f"{artifacts}/model", tmp_path)
    try:
        assert get(url + DEPLOYED) == (200, {"status": "ok"})
        rows = trained["iris-rf"].X[[0, 75, 149]]
        request = urllib.request.Request(
            f"{url}{DEPLOYED}:predict",
            json.dumps({"instances": rows.tolist()}).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            answer = json.load(response)
        # No metadata.json: Vertex's prebuilt-container behaviour, predict() as is.
        assert answer == {"predictions": trained["iris-rf"].model.predict(rows).tolist()}
    finally:
        stop(process)
        log.close()


def test_a_container_whose_model_fails_is_unhealthy_but_up(storage_emulator, artifacts, tmp_path):
    process, url, log = start_container(storage_emulator, f"{artifacts}/broken", tmp_path)
    try:
        assert get(url + DEPLOYED)[0] == 503
        request = urllib.request.Request(
            f"{url}{DEPLOYED}:predict",
            b'{"instances": [[1]]}',
            {"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        assert caught.value.code == 400
        assert "failed to load" in json.load(caught.value)["error"]["message"]
        assert process.poll() is None
    finally:
        stop(process)
        log.close()
