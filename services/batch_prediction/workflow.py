"""Jobs started by events: a job request message, or an input file landing in a bucket.

- A Pub/Sub message whose data is a job request (JSON, see `jobs`): the job id is the
  request's `jobId`, else `msg-{messageId}`, so a redelivery is the same job.
- A Cloud Storage OBJECT_FINALIZE (a notification through Pub/Sub, or an Eventarc CloudEvent)
  under `TRIGGER_PREFIX`: a job over that object with `TRIGGER_MODEL`, writing under
  `TRIGGER_OUTPUT`; its id is derived from the bucket, object and generation, so a redelivery
  is the same job and a new generation is a new job. The format comes from the name (`.csv`,
  `.txt`/`.list` file lists, else JSONL). The job's own output landing in a watched bucket is
  ignored, and so are other event types.

The job runs within the request (see `runner`); the answer follows `shared.workflow`:
200 `processed` (SUCCEEDED) or `failed` (FAILED or CANCELLED: retrying cannot help; the job
record holds the error), 503 while the job runs elsewhere or a dependency is down (Pub/Sub
redelivers), 400 for an undecodable event. A request that cannot become a job (not JSON, an
unknown field) gets a FAILED job record and a completion message, so the sender hears of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from services.batch_prediction import jobs
from services.batch_prediction.execute import Services, publish_done
from services.batch_prediction.models import parse_ref
from services.batch_prediction.runner import JobRunner
from shared import events, workflow
from shared.errors import ApiError, Code
from shared.service import ServiceContext

log = logging.getLogger(__name__)

_ID_UNSAFE = re.compile(r"[^a-z0-9-]+")


def handle(event: events.Event, context: ServiceContext) -> workflow.Outcome:
    runner: JobRunner = context.backend
    svc = runner.svc
    location = f"projects/{svc.settings.google_cloud_project}/locations/{svc.settings.job_location}"
    obj = event.storage_object
    if obj is not None:
        found = _storage_job(obj, svc)
        if isinstance(found, workflow.Outcome):
            return found
        job_id, spec, source, trigger = *found, "storage"
    elif event.message is not None:
        job_id, parsed = _message_job(event)
        source, trigger = {"messageId": event.id}, "pubsub"
        if isinstance(parsed, ApiError):
            return _refused(svc, f"{location}/batchPredictionJobs/{job_id}", parsed, source)
        spec = parsed
    else:
        return workflow.Outcome.ignored("neither a job request message nor a storage event")
    name = f"{location}/batchPredictionJobs/{job_id}"
    try:
        ref = parse_ref(spec.model)
        for uri in spec.inputs:
            svc.objects.check_uri(uri, "An input URI")
        svc.objects.check_uri(spec.output_directory or spec.output_prefix, "The output location")
    except ApiError as exc:
        return _refused(svc, name, exc, source)
    record = jobs.new_record(name, spec, trigger=trigger, model_name=ref.name, source=source)
    svc.store.create(job_id, record)
    final = runner.run(job_id)
    directory = final.get("outputInfo", {}).get("gcsOutputDirectory")
    if final["state"] == jobs.SUCCEEDED:
        return workflow.Outcome("processed", result_uri=directory)
    reason = f"{final['state']}: {final.get('error', {}).get('message', '')}"
    return workflow.Outcome("failed", reason, result_uri=directory)


def _storage_job(obj: events.StorageObject, svc: Services) -> Any:
    settings = svc.settings
    if obj.event_type != "OBJECT_FINALIZE":
        return workflow.Outcome.ignored(f"{obj.event_type} starts no job")
    if settings.trigger_prefix and not obj.name.startswith(settings.trigger_prefix):
        return workflow.Outcome.ignored(f"outside TRIGGER_PREFIX {settings.trigger_prefix!r}")
    output = settings.trigger_output_prefix()
    if output and obj.uri.startswith(output.rstrip("/") + "/"):
        return workflow.Outcome.ignored("an output of this service")
    if not settings.trigger_model or not output:
        raise ApiError(
            Code.UNAVAILABLE,
            "TRIGGER_MODEL and TRIGGER_OUTPUT (or RESULTS_BUCKET) must be set to start jobs "
            "from files; set them and the event will be processed on redelivery.",
        )
    generation = str(obj.generation) if obj.generation is not None else "0"
    digest = hashlib.sha256(f"{obj.bucket}/{obj.name}#{generation}".encode()).hexdigest()[:12]
    slug = _ID_UNSAFE.sub("-", obj.name.lower()).strip("-")[:40]
    job_id = f"gcs-{slug}-{generation}-{digest}"
    data: dict[str, Any] = {"model": settings.trigger_model, "input": obj.uri, "output": output}
    if settings.trigger_key_field:
        data["keyField"] = settings.trigger_key_field
    spec = jobs.spec_from_message(data)
    source = {"uri": obj.uri, "generation": generation}
    return job_id, spec, source


def _message_job(event: events.Event) -> tuple[str, jobs.JobSpec | ApiError]:
    assert event.message is not None
    job_id = f"msg-{_ID_UNSAFE.sub('-', event.id.lower())}"
    try:
        data = json.loads(event.message.data or b"null")
    except ValueError as exc:
        return job_id, ApiError(Code.INVALID_ARGUMENT, f"The job request is not JSON: {exc}.")
    if not isinstance(data, dict):
        return job_id, ApiError(Code.INVALID_ARGUMENT, "The job request must be a JSON object.")
    if isinstance(data.get("jobId"), str) and data["jobId"]:
        job_id = _ID_UNSAFE.sub("-", data["jobId"].lower()).strip("-")[:128] or job_id
    try:
        return job_id, jobs.spec_from_message(data)
    except ApiError as exc:
        return job_id, exc


def _refused(svc: Services, name: str, error: ApiError, source: dict[str, str]) -> workflow.Outcome:
    """A request that cannot become a job: a FAILED record and a completion message."""
    job_id = name.rsplit("/", 1)[-1]
    now = jobs.now_rfc3339()
    record = {
        "name": name,
        "displayName": job_id,
        "state": jobs.FAILED,
        "error": {"code": int(error.code), "message": error.message},
        "createTime": now,
        "endTime": now,
        "updateTime": now,
        "mlapi": {"trigger": "pubsub", "source": source},
    }
    stored, created = svc.store.create(job_id, record)
    if created:
        publish_done(svc, stored)
    log.warning("job request refused", extra={"json_fields": {"job": name, "error": error.message}})
    return workflow.Outcome("failed", error.message)
