"""The `cloud` backend: Document AI itself, through `google-cloud-documentai`.

Document AI is regional: a processor in `eu` is served by `eu-documentai.googleapis.com`, so
one client is made per location (`CLOUD_API_ENDPOINT` overrides all of them: a private
endpoint, or an `http://` recording in tests). Requests pass through unchanged (Google reads
`gcsDocument` itself and applies its own limits); errors are translated once into `ApiError`.
`batchProcess` and its operations are Google's own: the operation Google returns is passed
back as it is, and polls, lists and cancels go to Google (nothing is kept here).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from services.documentai.backends.base import Limits
from shared.cloudclients import CloudClients, google_errors
from shared.config import Settings
from shared.gapictypes import message_types

documentai = message_types("google.cloud.documentai_v1")


class CloudBackend:
    def __init__(self, settings: Settings) -> None:
        self._clients = CloudClients(settings)

    def client(self, location: str) -> Any:
        """The client of `location`'s regional endpoint."""
        return self._clients.get(
            "google.cloud.documentai_v1",
            "DocumentProcessorServiceClient",
            endpoint=f"{location}-documentai.googleapis.com",
        )

    @google_errors
    def process(
        self, request: documentai.ProcessRequest, processor_type: str, limits: Limits
    ) -> documentai.ProcessResponse:
        return self.client(_location(request.name)).process_document(request=request)

    @google_errors
    def batch_process(self, request: documentai.BatchProcessRequest) -> dict[str, Any]:
        operation = self.client(_location(request.name)).batch_process_documents(request=request)
        return json_format.MessageToDict(operation.operation)

    @google_errors
    def get_operation(self, name: str) -> dict[str, Any]:
        found = self.client(_location(name)).get_operation(request={"name": name})
        return json_format.MessageToDict(found)

    @google_errors
    def list_operations(self, parent: str) -> list[dict[str, Any]]:
        response = self.client(_location(parent)).list_operations(
            request={"name": f"{parent}/operations"}
        )
        return [json_format.MessageToDict(op) for op in response.operations]

    @google_errors
    def cancel_operation(self, name: str) -> None:
        self.client(_location(name)).cancel_operation(request={"name": name})

    def close(self) -> None:
        self._clients.close()


def _location(name: str) -> str:
    """The location in `projects/P/locations/L/...`; `us` for the project-level form."""
    parts = name.split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "locations" else "us"
