"""The Document AI backends: `cloud` (Document AI through its official client, regional
endpoints) and `local` (pdfplumber, pypdfium2 and the shared Tesseract engine). Both take and
return `google.cloud.documentai_v1` proto-plus types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.documentai.backends.base import DocumentAIBackend, Limits

if TYPE_CHECKING:
    from services.documentai.settings import DocumentAISettings
    from shared.storage import Storage


def create_backend(settings: DocumentAISettings, storage: Storage) -> DocumentAIBackend:
    """The backend that `ML_BACKEND` (or `DOCUMENTAI_ML_BACKEND`) names; engines load lazily."""
    if settings.ml_backend == "cloud":
        from services.documentai.backends.cloud import CloudBackend

        return CloudBackend(settings)
    from services.documentai.backends.local import LocalBackend

    return LocalBackend(settings, storage)


__all__ = ["DocumentAIBackend", "Limits", "create_backend"]
