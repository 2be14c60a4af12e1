"""Running one claimed job to its end: pin the model version, plan the shards, score what is not
done yet (local engine or Beam), record progress, publish the completion message, and write
the terminal state.

Failures, and what becomes of the job:
- a problem retrying cannot fix (model or input missing, bad request, every row failed, an
  output directory holding another job's files, a bug): JOB_STATE_FAILED with `error`;
- a dependency down (storage, Pub/Sub): `ApiError` UNAVAILABLE is raised, the record stays
  RUNNING, and the job is resumed by a redelivery or by recovery (see `runner`);
- a cancel: JOB_STATE_CANCELLED at the next chunk, files of finished shards kept.

The completion message (to `OUTPUT_TOPIC`, for SUCCEEDED, FAILED and CANCELLED) is published
before the terminal state is written, so a crash in between repeats the message (same
`dedupKey`) rather than losing it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

from services.batch_prediction import engine, jobs
from services.batch_prediction.models import ModelCache, parse_ref
from services.batch_prediction.objects import Objects
from services.batch_prediction.settings import BatchPredictionSettings
from services.batch_prediction.store import JobStore, Record
from shared.errors import ApiError, Code
from shared.pubsub import Publisher

log = logging.getLogger(__name__)

PRODUCER = "batch_prediction"
MAX_PARTIAL_FAILURES = 20  # Vertex: "This field never exceeds 20 entries."


@dataclasses.dataclass
class Services:
    settings: BatchPredictionSettings
    store: JobStore
    objects: Objects
    models: ModelCache
    publisher: Publisher
    worker: str


def job_id_of(record: Record) -> str:
    return record["name"].rsplit("/", 1)[-1]


def execute(svc: Services, record: Record, cancel: threading.Event) -> Record:
    """Run a job claimed by this worker (state RUNNING) to a terminal state."""
    job_id = job_id_of(record)
    try:
        spec = jobs.record_spec(record)
        version = _pin_model(svc, job_id, record)
        served = svc.models.get(version)
        plan, record = _plan(svc, job_id, record, spec)
        counted = {int(k): tuple(v) for k, v in record["mlapi"].get("shards", {}).items()}
        done = engine.done_shards(svc.objects, plan, counted)
        shards = plan.shards()
        progress = Progress(svc, job_id, {n: counted[n] for n in done}, cancel)
        progress.sizes = {s.number: s.end - s.start for s in shards}
        pending = [shard for shard in shards if shard.number not in done]
        log.info(
            "job running",
            extra={
                "json_fields": {
                    "job": record["name"],
                    "shards": len(plan.shards()),
                    "pending": len(pending),
                    "engine": spec.engine or svc.settings.engine,
                }
            },
        )
        if (spec.engine or svc.settings.engine) == "beam":
            from services.batch_prediction import beam_engine

            progress.check()
            results = _keeping_heartbeat(
                lambda: beam_engine.run(plan, pending, version, svc.settings),
                progress,
                svc.settings.heartbeat_seconds,
            )
            for number, (ok, failed) in sorted(results.items()):
                progress.shard_done(number, ok, failed)
        elif svc.settings.workers > 1 and len(pending) > 1:
            from services.batch_prediction import parallel

            progress.check()
            parallel.run(
                plan,
                pending,
                version,
                svc.models.registry.read_artifact(version),
                workers=svc.settings.workers,
                allow_local=svc.settings.allow_local_files,
                on_shard=progress.shard_done,
                on_tick=progress.tick,
                tick_seconds=svc.settings.heartbeat_seconds,
            )
        else:
            for shard in pending:
                ok, failed = engine.score_shard(shard, plan, served, svc.objects, progress.chunk)
                progress.shard_done(shard.number, ok, failed)
        return _finish(svc, job_id, plan, progress)
    except engine.Cancelled:
        return end(svc, job_id, jobs.CANCELLED, ApiError(Code.CANCELLED, "The job was cancelled."))
    except ApiError as exc:
        if exc.retryable:
            raise
        return end(svc, job_id, jobs.FAILED, exc)
    except Exception as exc:
        log.exception("job failed unexpectedly", extra={"json_fields": {"job": record["name"]}})
        error = ApiError(Code.INTERNAL, f"Internal error: {type(exc).__name__}: {exc}")
        return end(svc, job_id, jobs.FAILED, error)


def _pin_model(svc: Services, job_id: str, record: Record) -> Any:
    ref = parse_ref(record["model"])
    if record.get("modelVersionId"):
        return svc.models.registry.get(ref.name, record["modelVersionId"])
    version = svc.models.resolve(ref)

    def pin(current: Record) -> Record:
        current["modelVersionId"] = version.version
        return current

    svc.store.update(job_id, pin)
    return version


def _plan(
    svc: Services, job_id: str, record: Record, spec: jobs.JobSpec
) -> tuple[engine.Plan, Record]:
    state = record["mlapi"]
    if "inputs" not in state:
        for uri in spec.inputs:
            svc.objects.check_uri(uri, "An input URI")
        svc.objects.check_uri(record["outputInfo"]["gcsOutputDirectory"], "The output location")
        inputs, partial = engine.expand_inputs(svc.objects, spec.inputs, spec.instances_format)

        def store_plan(current: Record) -> Record:
            current["mlapi"]["inputs"] = [list(item) for item in inputs]
            current["mlapi"]["shardBytes"] = svc.settings.shard_bytes
            if partial:
                current["partialFailures"] = [
                    {"code": int(Code.NOT_FOUND), "message": m}
                    for m in partial[:MAX_PARTIAL_FAILURES]
                ]
            return current

        record = svc.store.update(job_id, store_plan)
        state = record["mlapi"]
    plan = engine.Plan(
        job=record["name"],
        output_dir=record["outputInfo"]["gcsOutputDirectory"],
        inputs=tuple(
            engine.Input(uri, size, gen, fmt, start, tuple(header))
            for uri, size, gen, fmt, start, header in state["inputs"]
        ),
        shard_bytes=int(state["shardBytes"]),
        chunk_size=spec.chunk_size or svc.settings.chunk_size,
        instance_config=spec.instance_config,
        read_block=svc.settings.read_block_bytes,
        upload_chunk=svc.settings.upload_chunk_bytes,
    )
    return plan, record


class Progress:
    """Counts of finished shards and of the running one, written to the record every
    `HEARTBEAT_SECONDS` (the heartbeat that keeps the job's lease) and after every shard. A
    cancel seen in the record, or signalled in this process, stops the job at the next chunk."""

    def __init__(
        self,
        svc: Services,
        job_id: str,
        done: dict[int, tuple[int, int]],
        cancel: threading.Event,
    ) -> None:
        self._svc = svc
        self._job_id = job_id
        self.shards = dict(done)
        self._cancel = cancel
        self._running = [0, 0, 0]  # rows predicted, rows failed, bytes
        self._last = time.monotonic()
        self.sizes: dict[int, int] = {}  # shard number -> input bytes

    @property
    def totals(self) -> tuple[int, int]:
        ok = sum(c[0] for c in self.shards.values()) + self._running[0]
        failed = sum(c[1] for c in self.shards.values()) + self._running[1]
        return ok, failed

    def chunk(self, ok: int, failed: int, size: int = 0) -> None:
        self._running[0] += ok
        self._running[1] += failed
        self._running[2] += size
        if time.monotonic() - self._last >= self._svc.settings.heartbeat_seconds:
            self.flush()
        self.check()

    def check(self) -> None:
        if self._cancel.is_set():
            raise engine.Cancelled

    def tick(self) -> None:
        """Between shards scored elsewhere: keep the heartbeat (the lease) and see a cancel."""
        if time.monotonic() - self._last >= self._svc.settings.heartbeat_seconds:
            self.flush()
        self.check()

    def shard_done(self, number: int, ok: int, failed: int) -> None:
        self.shards[number] = (ok, failed)
        self._running = [0, 0, 0]
        self.flush()
        self.check()

    def flush(self) -> None:
        ok, failed = self.totals
        shards = {str(n): list(c) for n, c in sorted(self.shards.items())}
        done = sum(self.sizes.get(n, 0) for n in self.shards) + self._running[2]
        total = sum(self.sizes.values())

        def write(current: Record) -> Record:
            if current["state"] == jobs.CANCELLING:
                self._cancel.set()
            current["completionStats"].update(successfulCount=str(ok), failedCount=str(failed))
            current["mlapi"].update(
                shards=shards,
                heartbeat=time.time(),
                worker=self._svc.worker,
                bytesDone=done,
                bytesTotal=total,
            )
            current["updateTime"] = jobs.now_rfc3339()
            return current

        self._svc.store.update(self._job_id, write)
        self._last = time.monotonic()


def _keeping_heartbeat(work: Callable[[], Any], progress: Progress, seconds: float) -> Any:
    """Run `work` (a Beam pipeline: no progress until it ends) on a thread while this one keeps
    the job's heartbeat, so no other process takes the job for orphaned meanwhile."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="batch-engine") as pool:
        future = pool.submit(work)
        while True:
            try:
                return future.result(timeout=seconds)
            except concurrent.futures.TimeoutError:
                progress.tick()


def _finish(svc: Services, job_id: str, plan: engine.Plan, progress: Progress) -> Record:
    ok, failed = progress.totals
    predictions = [plan.predictions_uri(n) for n in sorted(progress.shards)]
    errors = [plan.errors_uri(n) for n, c in sorted(progress.shards.items()) if c[1]]
    outputs = {"predictionUris": predictions, "errorUris": errors}
    if ok + failed == 0:
        error = ApiError(
            Code.INVALID_ARGUMENT,
            "The input holds no instances (empty files, or blank lines only).",
        )
        return end(svc, job_id, jobs.FAILED, error, outputs)
    if ok == 0:
        first = _first_error(svc.objects, errors[0]) if errors else ""
        error = ApiError(
            Code.INVALID_ARGUMENT,
            f"All {failed} instances failed; see {errors[0] if errors else 'the errors files'}."
            + (f" First error: {first}" if first else ""),
        )
        return end(svc, job_id, jobs.FAILED, error, outputs)
    return end(svc, job_id, jobs.SUCCEEDED, None, outputs)


def _first_error(objects: Objects, uri: str) -> str:
    try:
        info = objects.expand(uri)[0]
        with objects.open_reader(info, 65536) as reader:
            line = reader.read(65536).split(b"\n", 1)[0]
        return str(orjson.loads(line)["error"]["message"])
    except Exception:
        return ""


def end(
    svc: Services,
    job_id: str,
    state: str,
    error: ApiError | None,
    outputs: dict[str, list[str]] | None = None,
) -> Record:
    """Publish the completion message, then write the terminal state."""
    now = jobs.now_rfc3339()

    def terminal(current: Record) -> Record:
        current["state"] = state
        current["endTime"] = current["updateTime"] = now
        current.setdefault("startTime", now)
        if error is not None:
            current["error"] = {"code": int(error.code), "message": error.message}
        if state == jobs.SUCCEEDED:
            current["completionStats"]["incompleteCount"] = "0"
        if outputs:
            current["mlapi"].update(outputs)
        return current

    record = terminal(svc.store.get(job_id))
    publish_done(svc, record)
    record = svc.store.update(job_id, terminal)
    log.info(
        "job %s",
        state,
        extra={
            "json_fields": {
                "job": record["name"],
                "error": record.get("error"),
                "completionStats": record.get("completionStats"),
            }
        },
    )
    return record


def publish_done(svc: Services, record: Record) -> str | None:
    """The completion message on `OUTPUT_TOPIC` (none when it is not set)."""
    settings = svc.settings
    if not settings.output_topic:
        return None
    state = record["mlapi"]
    body: dict[str, Any] = {
        key: record[key]
        for key in (
            "name",
            "displayName",
            "model",
            "modelVersionId",
            "state",
            "error",
            "completionStats",
            "outputInfo",
            "createTime",
            "endTime",
        )
        if key in record
    }
    body["predictionUris"] = state.get("predictionUris", [])
    body["errorUris"] = state.get("errorUris", [])
    attributes = {
        "producer": PRODUCER,
        "jobName": record["name"],
        "jobState": record["state"],
        "resultUri": record.get("outputInfo", {}).get("gcsOutputDirectory", ""),
        "contentType": "application/json",
        "dedupKey": hashlib.sha256(f"{PRODUCER}:{record['name']}".encode()).hexdigest()[:32],
    }
    source = state.get("source") or {}
    if source.get("uri"):
        attributes["sourceUri"] = source["uri"]
        attributes["sourceGeneration"] = str(source.get("generation", ""))
    return svc.publisher.publish(
        settings.topic_path(settings.output_topic), orjson.dumps(body), attributes
    )
