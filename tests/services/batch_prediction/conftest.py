"""The batch prediction service as a real process over a registry in the storage emulator;
models trained here; helpers to write inputs, read outputs and deliver Pub/Sub pushes."""

from __future__ import annotations

import json
import time
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials

from shared.registry import Registry
from shared.storage import Storage
from tests.conftest import ServiceProcess, push_envelope
from tests.services.batch_prediction import models

MODELS, JOBS, DATA, OUT = "bp-models", "bp-jobs", "bp-data", "bp-out"
PARENT = "projects/test-project/locations/us-central1"
TERMINAL = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")


@pytest.fixture(scope="session")
def bp(storage_emulator) -> Iterator[types.SimpleNamespace]:
    """Buckets, the registry with `clf` (logistic pipeline, labels) and `reg` (linear
    regression), and a storage client, for this test process."""
    from google.cloud import storage

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        store = Storage("test-project")
        for bucket in (MODELS, JOBS, DATA, OUT):
            store.ensure_bucket(bucket)
        registry = Registry(MODELS, storage=store)
        clf, reg = models.logistic(), models.linear()
        models.register(registry, "clf", clf, kind="label")
        models.register(registry, "reg", reg, kind="regression", aliases=("champion", "beta"))
        gcs = storage.Client(project="test-project", credentials=AnonymousCredentials())
        yield types.SimpleNamespace(
            registry=registry, clf=clf, reg=reg, gcs=gcs, emulator=storage_emulator
        )


def service_env(storage_emulator: str, **extra: str) -> dict[str, str]:
    return {
        "STORAGE_EMULATOR_HOST": storage_emulator,
        "REGISTRY_BUCKET": MODELS,
        "JOBS_BUCKET": JOBS,
        "CHUNK_SIZE": "500",
        "SHARD_BYTES": "65536",
        "HEARTBEAT_SECONDS": "0.2",
        "LEASE_SECONDS": "3",
        "RECOVER_SECONDS": "0.5",
        **extra,
    }


def start_service(
    tmp_path_factory, env: dict[str, str], name: str = "bp", *, wait_ready: bool = True
) -> ServiceProcess:
    return ServiceProcess(
        "batch_prediction",
        "batch_prediction",
        env=env,
        log_path=tmp_path_factory.mktemp(name) / "service.log",
        wait_ready=wait_ready,
    )


def job_client(url: str):
    from google.cloud.aiplatform_v1 import JobServiceClient

    return JobServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def upload(gcs, uri: str, data: bytes | str) -> None:
    bucket, _, name = uri[len("gs://") :].partition("/")
    gcs.bucket(bucket).blob(name).upload_from_string(data)


def jsonl(rows: list[Any], wrap: bool = True) -> bytes:
    return b"".join(json.dumps({"instance": r} if wrap else r).encode() + b"\n" for r in rows)


def outputs(gcs, directory: str) -> dict[str, list[dict[str, Any]]]:
    """File name -> parsed lines, for every file in an output directory."""
    bucket, _, prefix = directory[len("gs://") :].partition("/")
    found = {}
    for blob in gcs.list_blobs(bucket, prefix=prefix.rstrip("/") + "/"):
        lines = blob.download_as_bytes().splitlines()
        found[blob.name.rsplit("/", 1)[-1]] = [json.loads(line) for line in lines]
    return found


def wait_for(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


def state_of(job: Any) -> str:
    """A job's state name, from REST JSON (a dict) or a proto-plus BatchPredictionJob."""
    return job["state"] if isinstance(job, dict) else job.state.name


def wait_terminal(get: Callable[[], Any], timeout: float = 60.0) -> Any:
    return wait_for(lambda: (job := get()) and state_of(job) in TERMINAL and job, timeout)


def push(
    url: str, data: dict[str, Any] | bytes, message_id: str, attributes: dict | None = None
) -> requests.Response:
    """A Pub/Sub push delivery (the wrapped envelope) to the service's /events."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    envelope = push_envelope(
        raw, attributes, message_id, "projects/test-project/subscriptions/batch-requests-push"
    )
    return requests.post(f"{url}/events", json=envelope, timeout=120)


def get_json(url: str, name: str) -> dict[str, Any]:
    response = requests.get(f"{url}/v1/{name}", timeout=10)
    response.raise_for_status()
    return response.json()
