"""The language service as a real process, and the official clients (v1, v2) pointed at it."""

from __future__ import annotations

import pytest
from google.cloud import language_v1, language_v2

from local.clients import api_client
from tests.conftest import ServiceProcess


def official_client(url: str, module=language_v1):
    return api_client(module.LanguageServiceClient, url)


@pytest.fixture(scope="session")
def language_service(tmp_path_factory, storage_emulator):
    service = ServiceProcess(
        "language",
        "language",
        env={"STORAGE_EMULATOR_HOST": storage_emulator},
        log_path=tmp_path_factory.mktemp("language") / "service.log",
    )
    yield service
    service.stop()


@pytest.fixture(scope="session")
def client(language_service) -> language_v1.LanguageServiceClient:
    return official_client(language_service.url)


@pytest.fixture(scope="session")
def client_v2(language_service) -> language_v2.LanguageServiceClient:
    return official_client(language_service.url, language_v2)


def document(text: str, **fields) -> language_v1.Document:
    return language_v1.Document(content=text, type_=language_v1.Document.Type.PLAIN_TEXT, **fields)
