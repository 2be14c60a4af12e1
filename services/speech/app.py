"""`create_app()`: the speech service as a Flask app: Speech-to-Text v1 (and v2 `recognize`,
`batchRecognize`) REST surface, its operations in storage, the audio -> text-ready event step,
health."""

from __future__ import annotations

import concurrent.futures
import dataclasses
from typing import Any

from services.speech import routes, workflow
from services.speech.backends import create_backend
from services.speech.operations import V2_KIND, Operations
from services.speech.settings import SpeechSettings
from shared import workflow as shared_workflow
from shared.service import ServiceContext, app_factory
from shared.storage import Storage

SERVICE = "speech"


@dataclasses.dataclass
class SpeechContext(ServiceContext):
    """The usual four parts, and the long-running operations (in the results bucket): v1's
    LongRunningRecognize and v2's BatchRecognize, whose jobs share one pool."""

    operations: Operations | None = None
    operations_v2: Operations | None = None


def _parts(settings: SpeechSettings, storage: Storage, backend: Any) -> dict[str, Any]:
    bucket = lambda: shared_workflow.results_bucket(settings)  # noqa: E731 - read when used
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=settings.lro_workers, thread_name_prefix="speech-lro"
    )
    return {
        "operations": Operations(
            storage, bucket, backend.long_running_recognize, pool=pool,
            stale_seconds=settings.stale_seconds,
        ),
        "operations_v2": Operations(
            storage, bucket, backend.batch_recognize, pool=pool, kind=V2_KIND,
            stale_seconds=settings.stale_seconds,
        ),
    }  # fmt: skip


create_app = app_factory(
    SERVICE,
    SpeechSettings,
    create_backend,
    routes.blueprint,
    workflow.handle,
    context_type=SpeechContext,
    context_parts=_parts,
)
