"""How a job ends: the completion message on `OUTPUT_TOPIC` (for SUCCEEDED, FAILED and
CANCELLED), then the terminal state in the record.

The message is published before the terminal state is written, so a crash in between repeats
the message (the same `dedupKey`) rather than losing it. A running job is ended only by the
worker holding it (through its `Lease`): a worker that has lost the job publishes nothing.

The message, through `shared.workflow.StepResult`: attributes `producer`
(`batch_prediction`), `resultUri` (the job's output directory), `contentType`, `sourceUri` and
`sourceGeneration` (jobs started by an input file), `dedupKey`
(`workflow.dedup_key("batch_prediction", job name)`), `jobName`, `jobState`; the body is
`JobRecord.completion_body()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import orjson

from services.batch_prediction.jobrecord import JobRecord
from services.batch_prediction.jobstore import JobStore
from services.batch_prediction.lease import Lease
from shared import workflow
from shared.errors import ApiError, Code
from shared.service import ServiceContext

log = logging.getLogger(__name__)

PRODUCER = "batch_prediction"


def cancelled() -> ApiError:
    return ApiError(Code.CANCELLED, "The job was cancelled.")


class Completion:
    def __init__(self, store: JobStore, context: ServiceContext) -> None:
        self._store = store
        # `workflow.publish` takes a service context: the settings (`OUTPUT_TOPIC`) and the
        # publisher. REST-created jobs end outside any request, so the jobs keep their own.
        self._context = context

    def end(
        self,
        job_id: str,
        state: str,
        error: ApiError | None,
        *,
        files: tuple[list[str], list[str]] | None = None,
        totals: tuple[int, int] | None = None,
        lease: Lease | None = None,
    ) -> JobRecord:
        """Publish the completion message, then write the terminal `state` with `error`, the
        (predictions, errors) `files` and the final (rows ok, rows failed) `totals`; only
        while `lease` holds the job, when given (`LeaseLost` otherwise)."""

        def terminal(current: JobRecord) -> JobRecord:
            current.end(state, error, files, totals)
            return current

        update: Callable[[Callable[[JobRecord], JobRecord]], JobRecord]
        if lease is None:
            current = self._store.get(job_id)
            update = lambda change: self._store.update(job_id, change)  # noqa: E731
        else:
            lease.stop()  # the end is the claim's last write
            current = lease.update(lambda _: None)  # raises LeaseLost before anything is sent
            update = lease.update
        self.publish(terminal(current))
        record = update(terminal)
        log.info(
            "job %s",
            state,
            extra={
                "json_fields": {
                    "job": record.name,
                    "error": record.error.to_json() if record.error else None,
                    "completionStats": record.public_json().get("completionStats"),
                }
            },
        )
        return record

    def publish(self, record: JobRecord) -> str | None:
        """The completion message of `record` (none when `OUTPUT_TOPIC` is not set)."""
        source = record.private.source
        result = workflow.StepResult(
            producer=PRODUCER,
            result_uri=record.output_directory,
            content_type="application/json",
            source_uri=source.get("uri", ""),
            source_generation=source.get("generation", "") if source.get("uri") else "",
            dedup_key=workflow.dedup_key(PRODUCER, record.name),
            extra={"jobName": record.name, "jobState": record.state},
        )
        return workflow.publish(self._context, result, orjson.dumps(record.completion_body()))
