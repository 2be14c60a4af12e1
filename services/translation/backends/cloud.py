"""The `cloud` backend: Cloud Translation v3 itself, through `google-cloud-translate`.

Requests pass through unchanged (glossaries, models and HTML are Google's to handle); errors
are translated once into `ApiError`; `CLOUD_API_ENDPOINT` picks a regional endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.cloudclients import CloudClients, google_errors
from shared.config import Settings
from shared.gapictypes import message_types

if TYPE_CHECKING:
    from google.cloud.translate_v3 import TranslationServiceClient

translate = message_types("google.cloud.translate_v3")


class CloudBackend:
    def __init__(self, settings: Settings) -> None:
        self._clients = CloudClients(settings)

    def _client(self) -> TranslationServiceClient:
        return self._clients.get("google.cloud.translate_v3", "TranslationServiceClient")

    @google_errors
    def translate_text(
        self, request: translate.TranslateTextRequest
    ) -> translate.TranslateTextResponse:
        return self._client().translate_text(request=request)

    @google_errors
    def detect_language(
        self, request: translate.DetectLanguageRequest
    ) -> translate.DetectLanguageResponse:
        return self._client().detect_language(request=request)

    @google_errors
    def get_supported_languages(
        self, request: translate.GetSupportedLanguagesRequest
    ) -> translate.SupportedLanguages:
        return self._client().get_supported_languages(request=request)

    def close(self) -> None:
        self._clients.close()
