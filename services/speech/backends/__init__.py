"""The speech backends: `cloud` (Speech-to-Text through its official client) and `local`
(faster-whisper, offline). Both take and return `google.cloud.speech_v1` / `speech_v2` types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.speech.backends.base import SpeechBackend

if TYPE_CHECKING:
    from services.speech.settings import SpeechSettings
    from shared.storage import Storage


def create_backend(settings: SpeechSettings, storage: Storage) -> SpeechBackend:
    """The backend that `ML_BACKEND` (or `SPEECH_ML_BACKEND`) names; Whisper loads lazily."""
    if settings.ml_backend == "cloud":
        from services.speech.backends.cloud import CloudBackend

        return CloudBackend(settings)
    from services.speech.backends.local import LocalBackend

    return LocalBackend(settings, storage)


__all__ = ["SpeechBackend", "create_backend"]
