"""The language backends: `cloud` (Cloud Natural Language through its official client) and
`local` (VADER, spaCy, lingua). Both take and return `google.cloud.language_v1`/`_v2` types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.language.backends.base import RPCS, LanguageBackend, Rpc

if TYPE_CHECKING:
    from services.language.settings import LanguageSettings
    from shared.storage import Storage


def create_backend(settings: LanguageSettings, storage: Storage) -> LanguageBackend:
    """The backend that `ML_BACKEND` (or `LANGUAGE_ML_BACKEND`) names; engines load lazily."""
    if settings.ml_backend == "cloud":
        from services.language.backends.cloud import CloudBackend

        return CloudBackend(settings)
    from services.language.backends.local import LocalBackend

    return LocalBackend(settings, storage)


__all__ = ["RPCS", "LanguageBackend", "Rpc", "create_backend"]
