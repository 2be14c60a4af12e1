"""`create_app()`: the Document AI service as a Flask app: Document AI v1's REST surface,
the document -> text event step, health. Its context adds the configured processors, the
operations store and the batch runner to the usual four parts."""

from __future__ import annotations

import dataclasses
from typing import Any

import flask

from services.documentai import routes, workflow
from services.documentai.backends import create_backend
from services.documentai.batch import BatchRunner
from services.documentai.operations import Operations
from services.documentai.processors import Processors
from services.documentai.settings import DocumentAISettings
from shared.pubsub import Publisher
from shared.service import ServiceContext, build_app
from shared.storage import Storage

SERVICE = "documentai"


@dataclasses.dataclass
class DocumentAIContext(ServiceContext):
    processors: Processors = None  # type: ignore[assignment]
    operations: Operations = None  # type: ignore[assignment]
    batch: BatchRunner = None  # type: ignore[assignment]


def create_app(
    settings: DocumentAISettings | None = None,
    *,
    backend: Any | None = None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    settings = settings or DocumentAISettings.from_env(SERVICE)
    storage = storage or Storage(settings.google_cloud_project)
    backend = backend if backend is not None else create_backend(settings, storage)
    operations = Operations(storage, settings.results_bucket)
    return build_app(
        SERVICE,
        settings,
        backend_factory=create_backend,
        blueprint=routes.blueprint(),
        handle_event=workflow.handle,
        backend=backend,
        storage=storage,
        publisher=publisher,
        context_type=DocumentAIContext,
        processors=Processors(settings.processors, local=settings.ml_backend == "local"),
        operations=operations,
        batch=BatchRunner(settings, storage, backend, operations),
    )
