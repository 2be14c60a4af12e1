"""The Vertex AI host of the tests: `python -m local.vertex_host` routing to real prediction and
batch prediction processes (each on a free port, over one registry in the storage emulator),
and the high-level SDK initialised against it exactly as a user would."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

from google.auth.credentials import AnonymousCredentials

from deploy.topology import load
from local.vertex_host import routes_for
from shared.registry import Registry
from shared.storage import Storage
from tests.conftest import ROOT, ServiceProcess, free_port, stop, wait_for_http

PROJECT, LOCATION = "test-project", "us-central1"
SKLEARN_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"
XGBOOST_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest"
TF_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-13:latest"


@dataclasses.dataclass
class VertexHost:
    url: str
    registry: Registry
    gcs: Any  # google.cloud.storage.Client on the emulator
    data_bucket: str
    processes: list[Any]
    router: subprocess.Popen
    logs: Path

    def put(self, name: str, data: bytes | str) -> str:
        """An object in the data bucket; its gs:// URI."""
        self.gcs.bucket(self.data_bucket).blob(name).upload_from_string(data)
        return f"gs://{self.data_bucket}/{name}"

    def artifact(self, folder: str, file: str, model: Any) -> str:
        """A model saved as Vertex's prebuilt containers load it; the folder's gs:// URI."""
        self.put(f"{folder}/{file}", serialise(model, file))
        return f"gs://{self.data_bucket}/{folder}"

    def read_text(self, uri: str) -> str:
        bucket, _, name = uri.removeprefix("gs://").partition("/")
        return self.gcs.bucket(bucket).blob(name).download_as_text()

    def list(self, prefix_uri: str) -> list[str]:
        bucket, _, prefix = prefix_uri.removeprefix("gs://").partition("/")
        return sorted(b.name for b in self.gcs.list_blobs(bucket, prefix=prefix))

    def init_sdk(self) -> None:
        from google.cloud import aiplatform

        aiplatform.init(
            project=PROJECT,
            location=LOCATION,
            api_endpoint=self.url,
            api_transport="rest",
            credentials=AnonymousCredentials(),
        )

    def stop(self) -> None:
        stop(self.router)
        for process in self.processes:
            process.stop()


def serialise(model: Any, file: str) -> bytes:
    if file.endswith((".joblib", ".pkl")):
        import joblib

        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        return buffer.getvalue()
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    return bytes(booster.save_raw("json" if file.endswith(".json") else "ubj"))


def start(tmp_path_factory, storage_emulator: str, models: str, results: str, data: str):
    from google.cloud import storage

    store = Storage(PROJECT)
    for bucket in (models, results, data):
        store.ensure_bucket(bucket)
    logs = tmp_path_factory.mktemp("vertex")
    prediction = ServiceProcess(
        "prediction",
        "prediction",
        env={
            "STORAGE_EMULATOR_HOST": storage_emulator,
            "REGISTRY_BUCKET": models,
            "RESULTS_BUCKET": results,
            "PREDICTION_REFRESH_SECONDS": "0.2",
        },
        log_path=logs / "prediction.log",
    )
    batch = ServiceProcess(
        "batch_prediction",
        "batch_prediction",
        env={
            "STORAGE_EMULATOR_HOST": storage_emulator,
            "REGISTRY_BUCKET": models,
            "JOBS_BUCKET": results,
            "HEARTBEAT_SECONDS": "0.2",
        },
        log_path=logs / "batch_prediction.log",
    )
    # The shipped routing table, with this test's service URLs.
    routes = routes_for(
        load().hosts["vertex"].routes, {"prediction": prediction.url, "batch_prediction": batch.url}
    )
    port = free_port()
    log = open(logs / "router.log", "wb")  # noqa: SIM115 - the process writes it until stopped
    router = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.vertex_host",
            "--port",
            str(port),
            *(f"--route={collection}={url}" for collection, url in routes.items()),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/health", router)
    gcs = storage.Client(project=PROJECT, credentials=AnonymousCredentials())
    host = VertexHost(
        url, Registry(models, storage=store), gcs, data, [prediction, batch], router, logs
    )
    host.init_sdk()
    return host
