"""The vision backends: `cloud` (Cloud Vision through its official client) and `local`
(offline engines). Both take and return `google.cloud.vision` proto-plus types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.vision.backends.base import VisionBackend

if TYPE_CHECKING:
    from services.vision.settings import VisionSettings
    from shared.storage import Storage


def create_backend(settings: VisionSettings, storage: Storage) -> VisionBackend:
    """The backend that `ML_BACKEND` (or `VISION_ML_BACKEND`) names; engines load lazily."""
    if settings.ml_backend == "cloud":
        from services.vision.backends.cloud import CloudBackend

        return CloudBackend(settings)
    from services.vision.backends.local import LocalBackend

    return LocalBackend(settings, storage)


__all__ = ["VisionBackend", "create_backend"]
