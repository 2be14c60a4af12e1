"""The Document AI service as a real process, the official client pointed at it, and the
sample documents (made once per session)."""

from __future__ import annotations

import pytest
from google.cloud import documentai_v1 as documentai

from local import document_samples as samples
from local.clients import api_client
from tests.conftest import ServiceProcess

PROJECT, LOCATION = "test-project", "us"
RESULTS = "docai-results"


def official_client(url: str) -> documentai.DocumentProcessorServiceClient:
    return api_client(documentai.DocumentProcessorServiceClient, url)


def processor_name(processor: str = "form") -> str:
    return f"projects/{PROJECT}/locations/{LOCATION}/processors/{processor}"


def text_of(doc: documentai.Document, layout: documentai.Document.Page.Layout) -> str:
    return "".join(
        doc.text[int(s.start_index) : int(s.end_index)] for s in layout.text_anchor.text_segments
    )


@pytest.fixture(scope="module")
def docai_service(tmp_path_factory, storage_emulator):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
        client = storage.Client(project=PROJECT, credentials=AnonymousCredentials())
        if client.lookup_bucket(RESULTS) is None:
            client.create_bucket(RESULTS)
    service = ServiceProcess(
        "documentai",
        "documentai",
        env={
            "STORAGE_EMULATOR_HOST": storage_emulator,
            "RESULTS_BUCKET": RESULTS,
            "MAX_REQUEST_BYTES": "62914560",  # as the topology sets it
        },
        log_path=tmp_path_factory.mktemp("documentai") / "service.log",
    )
    yield service
    service.stop()


@pytest.fixture(scope="module")
def client(docai_service) -> documentai.DocumentProcessorServiceClient:
    return official_client(docai_service.url)


@pytest.fixture(scope="session")
def invoices() -> list[samples.Form]:
    return [samples.invoice(seed) for seed in (11, 23, 37)]


@pytest.fixture(scope="session")
def scans(invoices) -> list[bytes]:
    return [samples.scan(form.pdf, seed=k) for k, form in enumerate(invoices)]
