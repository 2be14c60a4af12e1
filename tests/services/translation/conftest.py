"""The translation service as a real process, and the official v3 client pointed at it."""

from __future__ import annotations

import pytest
from google.cloud import translate_v3 as translate

from local.clients import api_client
from tests.conftest import ServiceProcess

PARENT = "projects/test-project/locations/global"


def official_client(url: str) -> translate.TranslationServiceClient:
    return api_client(translate.TranslationServiceClient, url)


@pytest.fixture(scope="session")
def translation_service(tmp_path_factory):
    service = ServiceProcess(
        "translation",
        "translation",
        env={},
        log_path=tmp_path_factory.mktemp("translation") / "service.log",
    )
    yield service
    service.stop()


@pytest.fixture(scope="session")
def client(translation_service) -> translate.TranslationServiceClient:
    return official_client(translation_service.url)
