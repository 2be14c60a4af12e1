"""The `cloud` backend: Cloud Natural Language itself, through `google-cloud-language`.

Requests pass through unchanged (Google reads `gcsContentUri` itself); errors are translated
once into `ApiError`; `CLOUD_API_ENDPOINT` picks a regional endpoint.
"""

from __future__ import annotations

import proto
from google.cloud import language_v1, language_v2

from services.language.backends.base import Rpc
from shared.cloudclients import CloudClients, google_errors
from shared.config import Settings

_CLIENTS = {"v1": language_v1.LanguageServiceClient, "v2": language_v2.LanguageServiceClient}


class CloudBackend:
    def __init__(self, settings: Settings) -> None:
        self._clients = CloudClients(settings)

    @google_errors
    def call(self, rpc: Rpc, request: proto.Message) -> proto.Message:
        client = self._clients.get(_CLIENTS[rpc.version])
        return getattr(client, rpc.method)(request=request)

    def close(self) -> None:
        self._clients.close()
