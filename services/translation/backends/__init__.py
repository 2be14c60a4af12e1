"""The translation backends: `cloud` (Cloud Translation v3 through its official client) and
`local` (Apertium + lingua). Both take and return `google.cloud.translate_v3` types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.translation.backends.base import TranslationBackend

if TYPE_CHECKING:
    from services.translation.settings import TranslationSettings
    from shared.storage import Storage


def create_backend(
    settings: TranslationSettings, _storage: Storage | None = None
) -> TranslationBackend:
    """The backend that `ML_BACKEND` (or `TRANSLATION_ML_BACKEND`) names; engines start lazily."""
    if settings.ml_backend == "cloud":
        from services.translation.backends.cloud import CloudBackend

        return CloudBackend(settings)
    from services.translation.backends.local import LocalBackend

    return LocalBackend(settings)


__all__ = ["TranslationBackend", "create_backend"]
