"""The `cloud` backend: Cloud Vision itself, through `google-cloud-vision`.

Requests pass through unchanged (Google reads `gs://` and `http(s)` sources itself); errors of the
whole call are translated once into `ApiError`.
"""

from __future__ import annotations

import threading
from typing import Any

from google.cloud import vision

from shared.errors import from_google_exception


class CloudBackend:
    def __init__(self, client_kwargs: dict[str, Any] | None = None) -> None:
        self._client_kwargs = client_kwargs or {}
        self._client: vision.ImageAnnotatorClient | None = None
        # Protects the lazy creation of `_client` (credentials are looked up then, not at start).
        self._lock = threading.Lock()

    def _get_client(self) -> vision.ImageAnnotatorClient:
        with self._lock:
            if self._client is None:
                self._client = vision.ImageAnnotatorClient(**self._client_kwargs)
            return self._client

    def annotate_images(
        self, request: vision.BatchAnnotateImagesRequest
    ) -> vision.BatchAnnotateImagesResponse:
        try:
            return self._get_client().batch_annotate_images(request=request)
        except Exception as exc:
            raise from_google_exception(exc) from exc

    def annotate_files(
        self, request: vision.BatchAnnotateFilesRequest
    ) -> vision.BatchAnnotateFilesResponse:
        try:
            return self._get_client().batch_annotate_files(request=request)
        except Exception as exc:
            raise from_google_exception(exc) from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.close()
