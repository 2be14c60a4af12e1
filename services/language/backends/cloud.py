"""The `cloud` backend: Cloud Natural Language itself, through `google-cloud-language`.

Requests pass through unchanged (Google reads `gcsContentUri` itself); errors are translated
once into `ApiError`.
"""

from __future__ import annotations

import threading
from typing import Any

import proto
from google.cloud import language_v1, language_v2

from services.language.backends.base import Rpc
from shared.errors import from_google_exception


class CloudBackend:
    def __init__(self, clients: dict[str, Any] | None = None) -> None:
        self._clients: dict[str, Any] = dict(clients or {})
        # Protects the lazy creation of the clients (credentials are looked up then).
        self._lock = threading.Lock()

    def _client(self, version: str) -> Any:
        with self._lock:
            if version not in self._clients:
                module = language_v1 if version == "v1" else language_v2
                self._clients[version] = module.LanguageServiceClient()
            return self._clients[version]

    def call(self, rpc: Rpc, request: proto.Message) -> proto.Message:
        try:
            return getattr(self._client(rpc.version), rpc.method)(request=request)
        except Exception as exc:
            raise from_google_exception(exc) from exc

    def close(self) -> None:
        for client in self._clients.values():
            client.transport.close()
