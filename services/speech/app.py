"""`create_app()`: the speech service as a Flask app: Speech-to-Text v1 (and v2 `recognize`,
`batchRecognize`) REST surface, its operations in storage, the audio -> text-ready event step,
health."""

from __future__ import annotations

import concurrent.futures
import dataclasses

import flask

from services.speech import routes, workflow
from services.speech.backends import create_backend
from services.speech.operations import V2_KIND, Operations
from services.speech.settings import SpeechSettings
from shared import workflow as shared_workflow
from shared.pubsub import Publisher
from shared.service import ServiceContext, build_app
from shared.storage import Storage

SERVICE = "speech"


@dataclasses.dataclass
class SpeechContext(ServiceContext):
    """The usual four parts, and the long-running operations (in the results bucket): v1's
    LongRunningRecognize and v2's BatchRecognize, whose jobs share one pool."""

    operations: Operations | None = None
    operations_v2: Operations | None = None


def create_app(
    settings: SpeechSettings | None = None,
    *,
    backend=None,
    storage: Storage | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    settings = settings or SpeechSettings.from_env(SERVICE)
    storage = storage or Storage(settings.google_cloud_project)
    backend = backend if backend is not None else create_backend(settings, storage)
    bucket = lambda: shared_workflow.results_bucket(settings)  # noqa: E731 - read when used
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=settings.lro_workers, thread_name_prefix="speech-lro"
    )
    operations = Operations(
        storage, bucket, backend.long_running_recognize, pool=pool,
        stale_seconds=settings.stale_seconds,
    )  # fmt: skip
    operations_v2 = Operations(
        storage, bucket, backend.batch_recognize, pool=pool, kind=V2_KIND,
        stale_seconds=settings.stale_seconds,
    )  # fmt: skip
    return build_app(
        SERVICE,
        settings,
        backend_factory=create_backend,
        blueprint=routes.blueprint(),
        handle_event=workflow.handle,
        backend=backend,
        storage=storage,
        publisher=publisher,
        context_type=SpeechContext,
        operations=operations,
        operations_v2=operations_v2,
    )
