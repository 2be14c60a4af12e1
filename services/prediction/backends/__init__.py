"""The prediction backends: `local` (models from the registry, served in this process) and
`cloud` (Vertex AI endpoints through `google-cloud-aiplatform`, imported only when chosen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.prediction.backends.base import (
    CONTAINER_ENDPOINT,
    ExplainResult,
    PredictionBackend,
    PredictResult,
    RawResult,
    Target,
)

if TYPE_CHECKING:
    from services.prediction.settings import PredictionSettings
    from shared.storage import Storage


def create_backend(
    settings: PredictionSettings, storage: Storage | None = None, **local_parts: object
) -> PredictionBackend:
    """The backend that `ML_BACKEND` (or `PREDICTION_ML_BACKEND`) names; `storage` and
    `local_parts` (metrics, in-flight counter, registry) go to the local backend only."""
    if settings.ml_backend == "cloud":
        from services.prediction.backends.cloud import CloudBackend

        return CloudBackend(settings)
    from services.prediction.backends.local import LocalBackend

    return LocalBackend(settings, storage=storage, **local_parts)  # type: ignore[arg-type]


__all__ = [
    "CONTAINER_ENDPOINT",
    "ExplainResult",
    "PredictResult",
    "PredictionBackend",
    "RawResult",
    "Target",
    "create_backend",
]
