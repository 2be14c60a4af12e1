"""Jobs started by events: a job request message, or an input file landing in a bucket.

- A Pub/Sub message whose data is a job request (JSON, see `jobspec`): the job id is the
  request's `jobId`, else `msg-{messageId}`, so a redelivery is the same job.
- A Cloud Storage OBJECT_FINALIZE (a notification through Pub/Sub, or an Eventarc CloudEvent)
  under `TRIGGER_PREFIX`: a job over that object with `TRIGGER_MODEL`, writing under
  `TRIGGER_OUTPUT`; its id is derived from the bucket, object and generation, so a redelivery
  is the same job and a new generation is a new job. The format comes from the name (`.csv`,
  `.txt`/`.list` file lists, else JSONL). The job's own output landing in a watched bucket is
  ignored, and so are other event types.

The job runs within the request (`Jobs.run_requested`); the answer follows `shared.workflow`:
200 `processed` (SUCCEEDED) or `failed` (FAILED or CANCELLED: retrying cannot help; the job
record holds the error), 503 while the job runs elsewhere or a dependency is down (Pub/Sub
redelivers), 400 for an undecodable event. A request that cannot become a job (not JSON, an
unknown field) gets a FAILED job record and a completion message, so the sender hears of it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from services.batch_prediction import jobspec
from services.batch_prediction.jobrecord import SUCCEEDED, JobRecord
from services.batch_prediction.jobs import Jobs
from services.batch_prediction.jobspec import JobSpec
from services.batch_prediction.settings import BatchPredictionSettings
from shared import events, jsonbody, workflow
from shared.errors import ApiError, Code
from shared.service import ServiceContext

_ID_UNSAFE = re.compile(r"[^a-z0-9-]+")


def handle(event: events.Event, context: ServiceContext) -> workflow.Outcome:
    jobs: Jobs = context.backend
    settings: BatchPredictionSettings = context.settings
    jobs_path = (
        f"projects/{settings.google_cloud_project}/locations/{settings.job_location}"
        "/batchPredictionJobs"
    )
    obj = event.storage_object
    if obj is not None:
        found = _storage_job(obj, settings)
        if isinstance(found, workflow.Outcome):
            return found
        job_id, spec = found
        trigger = "storage"
        source = {"uri": obj.uri, "generation": str(obj.generation or "0")}
    elif event.message is not None:
        job_id, parsed = _message_job(event)
        trigger, source = "pubsub", {"messageId": event.id}
        if isinstance(parsed, ApiError):
            record = jobs.refuse(f"{jobs_path}/{job_id}", parsed, trigger=trigger, source=source)
            return _outcome(record)
        spec = parsed
    else:
        return workflow.Outcome.ignored("neither a job request message nor a storage event")
    record = jobs.run_requested(f"{jobs_path}/{job_id}", spec, trigger=trigger, source=source)
    return _outcome(record)


def _outcome(record: JobRecord) -> workflow.Outcome:
    if record.spec is None:  # refused: never a job
        return workflow.Outcome("failed", record.error.message if record.error else "")
    directory = record.output_directory or None
    if record.state == SUCCEEDED:
        return workflow.Outcome("processed", result_uri=directory)
    reason = f"{record.state}: {record.error.message if record.error else ''}"
    return workflow.Outcome("failed", reason, result_uri=directory)


def _storage_job(
    obj: events.StorageObject, settings: BatchPredictionSettings
) -> tuple[str, JobSpec] | workflow.Outcome:
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
    request: dict[str, Any] = {"model": settings.trigger_model, "input": obj.uri, "output": output}
    if settings.trigger_key_field:
        request["keyField"] = settings.trigger_key_field
    return f"gcs-{slug}-{generation}-{digest}", jobspec.from_message(request)


def _message_job(event: events.Event) -> tuple[str, JobSpec | ApiError]:
    assert event.message is not None
    job_id = f"msg-{_ID_UNSAFE.sub('-', event.id.lower())}"
    try:
        data = jsonbody.loads(event.message.data or b"null")
    except ApiError as exc:
        reason = exc.message.removeprefix(jsonbody.INVALID).strip()
        return job_id, ApiError(Code.INVALID_ARGUMENT, f"The job request is not JSON: {reason}")
    if not isinstance(data, dict):
        return job_id, ApiError(Code.INVALID_ARGUMENT, "The job request must be a JSON object.")
    if isinstance(data.get("jobId"), str) and data["jobId"]:
        job_id = _ID_UNSAFE.sub("-", data["jobId"].lower()).strip("-")[:128] or job_id
    try:
        return job_id, jobspec.from_message(data)
    except ApiError as exc:
        return job_id, exc
