"""The vision service as a real process, and the official client pointed at it."""

from __future__ import annotations

import pytest
from google.cloud import vision

from local.clients import api_client
from tests.conftest import ServiceProcess


def official_client(url: str) -> vision.ImageAnnotatorClient:
    return api_client(vision.ImageAnnotatorClient, url)


@pytest.fixture(scope="module")
def vision_service(tmp_path_factory, storage_emulator):
    service = ServiceProcess(
        "vision",
        "vision",
        env={"STORAGE_EMULATOR_HOST": storage_emulator, "MAX_REQUEST_BYTES": str(12 * 2**20)},
        log_path=tmp_path_factory.mktemp("vision") / "service.log",
    )
    yield service
    service.stop()


@pytest.fixture(scope="module")
def client(vision_service) -> vision.ImageAnnotatorClient:
    return official_client(vision_service.url)
