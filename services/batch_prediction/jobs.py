"""The jobs: the batch prediction service's backend (`build_app`'s), holding the job records
(`jobstore`), the models (`modelcache`), the jobs' files (`jobfiles`) and the engines
(`backends`), and running jobs.

Where jobs run:
- REST-created jobs are queued to a pool of `MAX_CONCURRENT_JOBS` threads (`batch-job-*`).
  On Cloud Run this needs CPU allocated outside requests (`--no-cpu-throttling`); otherwise
  ask for jobs through Pub/Sub.
- A job asked for through Pub/Sub (a job request message, or an input file landing in a
  bucket) runs inside the push request, which is answered 2xx only when the job is done or
  has failed for good (see `workflow`). A long job outlives the push deadline; the
  redelivery finds it running here or elsewhere (a fresh heartbeat) and gets 503, so Pub/Sub
  keeps retrying until the job has ended, and then gets its 200.

Running one job: claim it (`lease`), then `execution` runs it to its end and `completion`
publishes the completion message and writes the terminal state.

Orphans. A running job whose heartbeat is older than `LEASE_SECONDS` is orphaned (its process
died): a redelivery, or the recovery thread (`batch-recovery`, REST-created jobs, every
`RECOVER_SECONDS`), claims it and resumes it. After `MAX_ATTEMPTS` claims a job fails for
good, so an input that kills the process cannot restart it forever.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import secrets
import threading
import time
import uuid

from services.batch_prediction.completion import Completion, cancelled
from services.batch_prediction.execution import Execution
from services.batch_prediction.jobfiles import JobFiles
from services.batch_prediction.jobrecord import ACTIVE, CANCELLED, CANCELLING, TERMINAL, JobRecord
from services.batch_prediction.jobspec import JobSpec
from services.batch_prediction.jobstore import JobStore
from services.batch_prediction.lease import Lease, LeaseLost
from services.batch_prediction.modelcache import ModelCache, parse_ref
from services.batch_prediction.settings import BatchPredictionSettings
from shared.errors import ApiError, Code, unavailable
from shared.perprocess import PerProcess
from shared.pubsub import Publisher
from shared.registry import Registry
from shared.service import ServiceContext
from shared.storage import Storage

log = logging.getLogger(__name__)


def new_job_id() -> str:
    """Numeric like Vertex's ids, and in creation order: milliseconds, then 6 random digits."""
    return f"{int(time.time() * 1000):013d}{secrets.randbelow(10**6):06d}"


def new_worker_id() -> str:
    return f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Jobs:
    def __init__(
        self,
        settings: BatchPredictionSettings,
        storage: Storage,
        publisher: Publisher,
        *,
        worker: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = JobStore(settings.jobs_bucket, settings.jobs_prefix, storage)
        self.files = JobFiles(storage, allow_local_files=settings.allow_local_files)
        registry = Registry(settings.registry_bucket, settings.registry_prefix, storage=storage)
        self.models = ModelCache(registry)
        self.worker = worker or new_worker_id()
        self._completion = Completion(
            self.store, ServiceContext(settings, storage, self, publisher)
        )
        self._execution = Execution(settings, self.files, self.models, self._completion)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            settings.max_concurrent_jobs, thread_name_prefix="batch-job"
        )
        # Protects `_active` (job id -> its cancel event, while it runs here) and `_queued`.
        self._lock = threading.Lock()
        self._active: dict[str, threading.Event] = {}
        self._queued: set[str] = set()
        self._stop = threading.Event()
        self._recovery: PerProcess[threading.Thread] = PerProcess(self._start_recovery)

    # -- the job API -------------------------------------------------------------------------

    def create(self, parent: str, spec: JobSpec) -> JobRecord:
        """A REST-created job: checked, stored QUEUED, run in the background."""
        for uri in spec.inputs:
            self.files.check_uri(uri, "inputConfig.gcsSource.uris")
        self.files.check_uri(spec.output_prefix, "outputConfig.gcsDestination.outputUriPrefix")
        ref = parse_ref(spec.model)
        self.models.resolve(ref)  # NOT_FOUND now rather than a failed job later
        name = f"{parent}/batchPredictionJobs/{new_job_id()}"
        record = JobRecord.new(name, spec, trigger="rest", model_name=ref.name)
        record.private.heartbeat = time.time()  # queued here: no orphan for recovery
        record, _ = self.store.create(record)
        self.submit(record.job_id)
        return record

    def run_requested(
        self, name: str, spec: JobSpec, *, trigger: str, source: dict[str, str]
    ) -> JobRecord:
        """A job asked for by an event, run here and now to its end (`run`); one that cannot
        start (a malformed model reference, a URI this service may not use) is refused."""
        try:
            ref = parse_ref(spec.model)
            for uri in spec.inputs:
                self.files.check_uri(uri, "An input URI")
            self.files.check_uri(spec.output_directory or spec.output_prefix, "The output location")
        except ApiError as exc:
            return self.refuse(name, exc, trigger=trigger, source=source)
        record = JobRecord.new(name, spec, trigger=trigger, model_name=ref.name, source=source)
        self.store.create(record)
        return self.run(record.job_id)

    def refuse(
        self, name: str, error: ApiError, *, trigger: str, source: dict[str, str]
    ) -> JobRecord:
        """A request that cannot become a job: a FAILED record and a completion message."""
        record = JobRecord.refused(name, error, trigger=trigger, source=source)
        stored, created = self.store.create(record)
        if created:
            self._completion.publish(stored)
        log.warning(
            "job request refused", extra={"json_fields": {"job": name, "error": error.message}}
        )
        return stored

    def get(self, job_id: str) -> JobRecord:
        return self.store.get(job_id)

    def page(
        self, parent: str, state: str, page_size: int, after: str
    ) -> tuple[list[JobRecord], str]:
        """Up to `page_size` jobs under `parent` (in `state`, if given) with ids after
        `after`, in id order; and the token of the next page ("" when this is the last)."""
        found: list[JobRecord] = []
        for job_id in self.store.ids():
            if after and job_id <= after:
                continue
            record = self.store.listed(job_id)
            if record is None or not record.name.startswith(parent + "/"):
                continue
            if state and record.state != state:
                continue
            if len(found) == page_size:
                return found, found[-1].job_id
            found.append(record)
        return found, ""

    def cancel(self, job_id: str) -> JobRecord:
        """Vertex's cancel: a queued job ends CANCELLED at once, a running one goes
        CANCELLING and ends at its next chunk; an ended job is FAILED_PRECONDITION."""
        previous: list[str] = []

        def request(current: JobRecord) -> JobRecord:
            if current.state in TERMINAL:
                raise ApiError(
                    Code.FAILED_PRECONDITION,
                    f"Job {job_id} is already {current.state} and cannot be cancelled.",
                )
            previous.append(current.state)
            current.request_cancel()
            return current

        record = self.store.update(job_id, request)
        with self._lock:
            event = self._active.get(job_id)
        if event is not None:
            event.set()  # running here: it stops at its next chunk
            return record
        alive = record.holder_is_alive(self.settings.lease_seconds)
        if previous[-1] in ACTIVE and alive and record.private.worker != self.worker:
            return record  # running elsewhere: that worker sees CANCELLING at its next beat
        return self._completion.end(job_id, CANCELLED, cancelled())

    # -- running -----------------------------------------------------------------------------

    def submit(self, job_id: str) -> None:
        """Run a stored job in the background (no-op when it is queued or running here)."""
        self.start()
        with self._lock:
            if job_id in self._queued or job_id in self._active:
                return
            self._queued.add(job_id)
        self._pool.submit(self._background, job_id)

    def _background(self, job_id: str) -> None:
        try:
            self.run(job_id)
        except ApiError as exc:
            log.warning(
                "job interrupted; it will be resumed",
                extra={"json_fields": {"jobId": job_id, "error": exc.message}},
            )
        except Exception:
            log.exception("job runner failed", extra={"json_fields": {"jobId": job_id}})

    def run(self, job_id: str) -> JobRecord:
        """Run a stored job here, now, to its end; the terminal record. UNAVAILABLE when it
        is running here or elsewhere (retry later), or when a dependency is down."""
        with self._lock:
            self._queued.discard(job_id)
            if job_id in self._active:
                raise unavailable(f"Job {job_id} is running in this process; try again later.")
            cancel = self._active[job_id] = threading.Event()
        try:
            record = self.claim(job_id)
            if record.state == CANCELLING:  # not claimed: nobody is running it
                return self._completion.end(job_id, CANCELLED, cancelled())
            if record.state in TERMINAL:
                return record
            lease = Lease(
                self.store, record, heartbeat_seconds=self.settings.heartbeat_seconds, cancel=cancel
            )
            lease.start()
            try:
                return self._execution.run(record, lease)
            except LeaseLost as exc:
                log.warning(
                    "job taken over by another worker; this one stops",
                    extra={"json_fields": {"job": record.name, "reason": str(exc)}},
                )
                current = self.store.get(job_id)
                if current.state in TERMINAL:
                    return current
                raise unavailable(
                    f"Job {job_id} is running in another worker; try again later."
                ) from None
            finally:
                lease.stop()
        finally:
            with self._lock:
                self._active.pop(job_id, None)

    def claim(self, job_id: str) -> JobRecord:
        """RUNNING, held by this worker; or the record as it is when it has ended, or is
        CANCELLING with nobody alive running it."""

        def claim(current: JobRecord) -> JobRecord | None:
            if current.state in TERMINAL:
                return None
            if (
                current.holder_is_alive(self.settings.lease_seconds)
                and current.private.worker != self.worker
            ):
                raise unavailable(
                    f"Job {job_id} is running in another worker ({current.private.worker}); "
                    "try again later."
                )
            if current.state == CANCELLING:
                return current
            current.claim(self.worker)
            return current

        return self.store.update(job_id, claim)

    # -- recovery ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the scoring processes, if any, and the recovery thread once per process
        (after a fork too)."""
        self._execution.prepare()
        if self.settings.recover_seconds > 0:
            self._recovery.get()

    def _start_recovery(self) -> threading.Thread:
        recovery = threading.Thread(target=self._recover_loop, name="batch-recovery", daemon=True)
        recovery.start()
        return recovery

    def _recover_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.recover_once()
            except Exception as exc:
                log.warning("job recovery pass failed: %s", exc)
            self._stop.wait(self.settings.recover_seconds)

    def recover_once(self) -> list[str]:
        """Queue REST-created jobs that are unfinished and not running anywhere alive."""
        resumed = []
        for job_id in self.store.ids():
            with self._lock:
                if job_id in self._active or job_id in self._queued:
                    continue
            record = self.store.listed(job_id)
            if record is None or record.state in TERMINAL or record.private.trigger != "rest":
                continue
            if time.time() - record.private.heartbeat < self.settings.lease_seconds:
                continue
            resumed.append(job_id)
            self.submit(job_id)
        if resumed:
            log.info("resuming orphaned jobs", extra={"json_fields": {"jobs": resumed}})
        return resumed

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            for event in self._active.values():
                event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._execution.close()
