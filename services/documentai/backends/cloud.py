"""The `cloud` backend: Document AI itself, through `google-cloud-documentai`.

Document AI is regional: a processor in `eu` is served by `eu-documentai.googleapis.com`, so
one client is made per location (`CLOUD_API_ENDPOINT` overrides all of them: a private
endpoint, or an `http://` recording in tests). Requests pass through unchanged (Google reads
`gcsDocument` itself and applies its own limits); errors are translated once into `ApiError`.
"""

from __future__ import annotations

import threading

from google.cloud import documentai_v1 as documentai

from services.documentai.backends.base import Limits
from shared.cloudclients import google_errors
from shared.config import Settings


class CloudBackend:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._clients: dict[str, documentai.DocumentProcessorServiceClient] = {}
        # Protects `_clients` against two first requests for one location at once.
        self._lock = threading.Lock()

    def client(self, location: str) -> documentai.DocumentProcessorServiceClient:
        with self._lock:
            client = self._clients.get(location)
            if client is None:
                kwargs = self._settings.cloud_client_kwargs()
                if not kwargs:
                    from google.api_core.client_options import ClientOptions

                    endpoint = f"{location}-documentai.googleapis.com"
                    kwargs = {"client_options": ClientOptions(api_endpoint=endpoint)}
                client = self._clients[location] = documentai.DocumentProcessorServiceClient(
                    **kwargs
                )
            return client

    @google_errors
    def process(
        self, request: documentai.ProcessRequest, processor_type: str, limits: Limits
    ) -> documentai.ProcessResponse:
        location = request.name.split("/")[3]
        return self.client(location).process_document(request=request)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.transport.close()
            self._clients.clear()
