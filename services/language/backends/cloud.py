"""The `cloud` backend: Cloud Natural Language itself, through `google-cloud-language`.

Requests pass through unchanged (Google reads `gcsContentUri` itself); errors are translated
once into `ApiError`; `CLOUD_API_ENDPOINT` picks a regional endpoint.
"""

from __future__ import annotations

import proto

from services.language.backends.base import Rpc
from shared.cloudclients import CloudClients, google_errors
from shared.config import Settings

_PACKAGES = {"v1": "google.cloud.language_v1", "v2": "google.cloud.language_v2"}


class CloudBackend:
    def __init__(self, settings: Settings) -> None:
        self._clients = CloudClients(settings)

    @google_errors
    def call(self, rpc: Rpc, request: proto.Message) -> proto.Message:
        client = self._clients.get(_PACKAGES[rpc.version], "LanguageServiceClient")
        return getattr(client, rpc.method)(request=request)

    def close(self) -> None:
        self._clients.close()
