"""`shared.cloudclients.CloudClients`: the official clients, made on first use, one per
regional endpoint unless `CLOUD_API_ENDPOINT` names one for all.

The clients are the real ones; an `authorized_user` credentials file lets them be made
offline (credentials are only refreshed when a call is sent, and none is sent here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cloudclients import CloudClients
from shared.config import Settings

PACKAGE, NAME = "google.cloud.documentai_v1", "DocumentProcessorServiceClient"


@pytest.fixture(autouse=True)
def offline_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    adc = tmp_path / "adc.json"
    user = {"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}
    adc.write_text(json.dumps(user))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    monkeypatch.delenv("CLOUD_API_ENDPOINT", raising=False)


def test_one_client_per_regional_endpoint() -> None:
    clients = CloudClients(Settings.from_env("documentai"))
    try:
        eu = clients.get(PACKAGE, NAME, endpoint="eu-documentai.googleapis.com")
        us = clients.get(PACKAGE, NAME, endpoint="us-documentai.googleapis.com")
        assert eu.api_endpoint == "eu-documentai.googleapis.com"
        assert us.api_endpoint == "us-documentai.googleapis.com"
        assert clients.get(PACKAGE, NAME, endpoint="eu-documentai.googleapis.com") is eu
        assert clients.get(PACKAGE, NAME).api_endpoint == "documentai.googleapis.com"
    finally:
        clients.close()


def test_cloud_api_endpoint_overrides_every_regional_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUD_API_ENDPOINT", "http://127.0.0.1:9")
    clients = CloudClients(Settings.from_env("documentai"))
    try:
        eu = clients.get(PACKAGE, NAME, endpoint="eu-documentai.googleapis.com")
        assert clients.get(PACKAGE, NAME, endpoint="us-documentai.googleapis.com") is eu
        assert eu.api_endpoint == "http://127.0.0.1:9"
    finally:
        clients.close()
