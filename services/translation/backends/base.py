"""The one interface both backends implement: Translation v3's request types in, response
types out (`google.cloud.translate_v3`)."""

from __future__ import annotations

from typing import Protocol

from shared.gapictypes import message_types

translate = message_types("google.cloud.translate_v3")


class TranslationBackend(Protocol):
    def translate_text(
        self, request: translate.TranslateTextRequest
    ) -> translate.TranslateTextResponse: ...

    def detect_language(
        self, request: translate.DetectLanguageRequest
    ) -> translate.DetectLanguageResponse: ...

    def get_supported_languages(
        self, request: translate.GetSupportedLanguagesRequest
    ) -> translate.SupportedLanguages: ...

    def close(self) -> None: ...
