"""`create_app()`: the Document AI service as a Flask app: Document AI v1's REST surface,
the document -> text event step, health. Its context adds the configured processors, the
operations store and the batch runner to the usual four parts."""

from __future__ import annotations

import dataclasses
from typing import Any

from services.documentai import routes, workflow
from services.documentai.backends import create_backend
from services.documentai.batch import BatchRunner
from services.documentai.operations import Operations
from services.documentai.processors import Processors
from services.documentai.settings import DocumentAISettings
from shared.service import ServiceContext, app_factory
from shared.storage import Storage

SERVICE = "documentai"


@dataclasses.dataclass
class DocumentAIContext(ServiceContext):
    processors: Processors = None  # type: ignore[assignment]
    operations: Operations = None  # type: ignore[assignment]
    batch: BatchRunner = None  # type: ignore[assignment]


def _parts(settings: DocumentAISettings, storage: Storage, backend: Any) -> dict[str, Any]:
    operations = Operations(storage, settings.results_bucket)
    return {
        "processors": Processors(settings.processors, local=settings.ml_backend == "local"),
        "operations": operations,
        "batch": BatchRunner(settings, storage, backend, operations),
    }


create_app = app_factory(
    SERVICE,
    DocumentAISettings,
    create_backend,
    routes.blueprint,
    workflow.handle,
    context_type=DocumentAIContext,
    context_parts=_parts,
)
