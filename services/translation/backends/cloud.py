"""The `cloud` backend: Cloud Translation v3 itself, through `google-cloud-translate`.

Requests pass through unchanged (glossaries, models and HTML are Google's to handle); errors
are translated once into `ApiError`.
"""

from __future__ import annotations

import threading

from google.cloud import translate_v3 as translate

from shared.errors import from_google_exception


class CloudBackend:
    def __init__(self, client: translate.TranslationServiceClient | None = None) -> None:
        self._client = client
        # Protects the lazy creation of `_client` (credentials are looked up then).
        self._lock = threading.Lock()

    def _get_client(self) -> translate.TranslationServiceClient:
        with self._lock:
            if self._client is None:
                self._client = translate.TranslationServiceClient()
            return self._client

    def translate_text(
        self, request: translate.TranslateTextRequest
    ) -> translate.TranslateTextResponse:
        try:
            return self._get_client().translate_text(request=request)
        except Exception as exc:
            raise from_google_exception(exc) from exc

    def detect_language(
        self, request: translate.DetectLanguageRequest
    ) -> translate.DetectLanguageResponse:
        try:
            return self._get_client().detect_language(request=request)
        except Exception as exc:
            raise from_google_exception(exc) from exc

    def get_supported_languages(
        self, request: translate.GetSupportedLanguagesRequest
    ) -> translate.SupportedLanguages:
        try:
            return self._get_client().get_supported_languages(request=request)
        except Exception as exc:
            raise from_google_exception(exc) from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.close()
