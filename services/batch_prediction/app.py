"""`create_app()`: the batch prediction service as a Flask app (job API, event route, health).

The service's "backend" (in `shared.service` terms) is its `JobRunner`: the jobs' store, the
model cache and the engines behind it. There is no `cloud` backend that forwards to Vertex AI:
the models are this project's registry's; the cloud path is the Beam engine on Dataflow
(`ENGINE=beam`, `BEAM_RUNNER=DataflowRunner`).
"""

from __future__ import annotations

import flask

from services.batch_prediction import routes, workflow
from services.batch_prediction.execute import Services
from services.batch_prediction.models import ModelCache
from services.batch_prediction.objects import Objects
from services.batch_prediction.runner import JobRunner
from services.batch_prediction.settings import BatchPredictionSettings
from services.batch_prediction.store import JobStore
from shared.pubsub import Publisher, PubSubPublisher
from shared.registry import Registry
from shared.service import build_app
from shared.storage import Storage

SERVICE = "batch_prediction"


def create_runner(settings: BatchPredictionSettings, publisher: Publisher) -> JobRunner:
    storage = Storage(settings.google_cloud_project)
    registry = Registry(settings.registry_bucket, settings.registry_prefix, storage=storage)
    services = Services(
        settings=settings,
        store=JobStore(settings.jobs_bucket, settings.jobs_prefix, storage=storage),
        objects=Objects(
            settings.google_cloud_project, allow_local_files=settings.allow_local_files
        ),
        models=ModelCache(registry),
        publisher=publisher,
        worker=JobRunner.new_worker_id(),
    )
    return JobRunner(services)


def create_app(
    settings: BatchPredictionSettings | None = None,
    *,
    runner: JobRunner | None = None,
    publisher: Publisher | None = None,
) -> flask.Flask:
    """Defaults from the environment, then the arguments (tests pass their own)."""
    settings = settings or BatchPredictionSettings.from_env(SERVICE)
    publisher = publisher or PubSubPublisher()
    runner = runner or create_runner(settings, publisher)
    app = build_app(
        SERVICE,
        settings,
        backend_factory=_unused,
        blueprint=routes.blueprint(),
        handle_event=workflow.handle,
        backend=runner,
        publisher=publisher,
    )
    runner.start_recovery()
    return app


def _unused(*_args: object) -> None:
    raise AssertionError("the runner is always built by create_app")
