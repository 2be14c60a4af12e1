"""The translation service as a real process, and the official v3 client pointed at it."""

from __future__ import annotations

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import translate_v3 as translate

from tests.conftest import ServiceProcess

PARENT = "projects/test-project/locations/global"


def official_client(url: str) -> translate.TranslationServiceClient:
    return translate.TranslationServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )


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
