"""Where jobs run: in the background for the REST API, within the request for Pub/Sub.

- REST-created jobs are queued to a pool of `MAX_CONCURRENT_JOBS` threads (`batch-job-*`).
  On Cloud Run this needs CPU allocated outside requests (`--no-cpu-throttling`); otherwise
  ask for jobs through Pub/Sub.
- A job asked for through Pub/Sub (a job request message, or an input file landing in a
  bucket) runs inside the push request, and the request is answered 2xx only when the job is
  done or has failed for good (see `workflow`). A long job outlives the push deadline; the
  redelivery finds it running here or elsewhere (a fresh heartbeat) and gets 503, so Pub/Sub
  keeps retrying until the job has ended, and then gets its 200.

Claiming. A worker (one per process) claims a job by writing `RUNNING` with its id and a
heartbeat to the record; it refreshes the heartbeat as it goes. A job whose heartbeat is older
than `LEASE_SECONDS` is orphaned (its process died): a redelivery, or the recovery thread
(`batch-recovery`, REST-created jobs, every `RECOVER_SECONDS`), claims it and resumes it. After
`MAX_ATTEMPTS` claims a job fails for good, so an input that kills the process cannot restart
it forever.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import time
import uuid

from services.batch_prediction import jobs
from services.batch_prediction.execute import Services, end, execute, job_id_of
from services.batch_prediction.store import Record
from shared.errors import ApiError, Code, unavailable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
_ACTIVE = (jobs.RUNNING, jobs.CANCELLING)


class JobRunner:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        settings = svc.settings
        self._pool = concurrent.futures.ThreadPoolExecutor(
            settings.max_concurrent_jobs, thread_name_prefix="batch-job"
        )
        # Protects `_active` (job id -> its cancel event, while it runs here) and `_queued`.
        self._lock = threading.Lock()
        self._active: dict[str, threading.Event] = {}
        self._queued: set[str] = set()
        self._stop = threading.Event()
        self._recovery: threading.Thread | None = None
        self._recovery_pid = 0

    @staticmethod
    def new_worker_id() -> str:
        return f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    # -- starting jobs ---------------------------------------------------------------------

    def submit(self, job_id: str) -> None:
        """Run a stored job in the background (no-op when it is queued or running here)."""
        self.start_recovery()
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

    def run(self, job_id: str) -> Record:
        """Run a stored job here, now, to its end; the terminal record. UNAVAILABLE when it
        is running here or elsewhere (retry later), or when a dependency is down."""
        with self._lock:
            self._queued.discard(job_id)
            if job_id in self._active:
                raise unavailable(f"Job {job_id} is running in this process; try again later.")
            cancel = self._active[job_id] = threading.Event()
        try:
            record = self._claim(job_id)
            if record["state"] == jobs.CANCELLING:
                return end(self.svc, job_id, jobs.CANCELLED, _cancelled())
            if record["state"] in jobs.TERMINAL:
                return record
            if record["mlapi"].get("attempts", 0) > MAX_ATTEMPTS:
                error = ApiError(
                    Code.ABORTED,
                    f"The job was started {MAX_ATTEMPTS} times without finishing (did its "
                    "process die?); it is not retried again.",
                )
                return end(self.svc, job_id, jobs.FAILED, error)
            return execute(self.svc, record, cancel)
        finally:
            with self._lock:
                self._active.pop(job_id, None)

    def _claim(self, job_id: str) -> Record:
        worker = self.svc.worker
        lease = self.svc.settings.lease_seconds

        def claim(current: Record) -> Record | None:
            state = current["state"]
            if state in jobs.TERMINAL:
                return None
            private = current["mlapi"]
            fresh = time.time() - float(private.get("heartbeat", 0)) < lease
            if state in _ACTIVE and fresh and private.get("worker") != worker:
                raise unavailable(
                    f"Job {job_id} is running in another worker ({private.get('worker')}); "
                    "try again later."
                )
            if state == jobs.CANCELLING:
                return current  # ended as CANCELLED by the caller
            now = jobs.now_rfc3339()
            current["state"] = jobs.RUNNING
            current.setdefault("startTime", now)
            current["updateTime"] = now
            private.update(
                worker=worker, heartbeat=time.time(), attempts=private.get("attempts", 0) + 1
            )
            return current

        return self.svc.store.update(job_id, claim)

    # -- cancelling ------------------------------------------------------------------------

    def cancel(self, job_id: str) -> Record:
        """Vertex's cancel: a queued job ends CANCELLED at once, a running one goes
        CANCELLING and ends at its next chunk; an ended job is FAILED_PRECONDITION."""

        previous: list[str] = []

        def request(current: Record) -> Record:
            state = current["state"]
            if state in jobs.TERMINAL:
                raise ApiError(
                    Code.FAILED_PRECONDITION,
                    f"Job {job_id} is already {state} and cannot be cancelled.",
                )
            previous.append(state)
            current["state"] = jobs.CANCELLING
            current["updateTime"] = jobs.now_rfc3339()
            return current

        record = self.svc.store.update(job_id, request)
        with self._lock:
            event = self._active.get(job_id)
        if event is not None:
            event.set()  # running here: it stops at its next chunk
            return record
        private = record["mlapi"]
        fresh = time.time() - float(private.get("heartbeat", 0)) < self.svc.settings.lease_seconds
        if previous[-1] in _ACTIVE and fresh and private.get("worker") != self.svc.worker:
            return record  # running elsewhere: that worker sees CANCELLING at its next flush
        return end(self.svc, job_id, jobs.CANCELLED, _cancelled())

    # -- recovery --------------------------------------------------------------------------

    def start_recovery(self) -> None:
        """Start the recovery thread once per process (after a fork too)."""
        if self.svc.settings.recover_seconds <= 0:
            return
        with self._lock:
            if self._recovery is not None and self._recovery_pid == os.getpid():
                return
            self._recovery_pid = os.getpid()
            self._recovery = threading.Thread(
                target=self._recover_loop, name="batch-recovery", daemon=True
            )
            self._recovery.start()

    def _recover_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.recover_once()
            except Exception as exc:
                log.warning("job recovery pass failed: %s", exc)
            self._stop.wait(self.svc.settings.recover_seconds)

    def recover_once(self) -> list[str]:
        """Queue REST-created jobs that are unfinished and not running anywhere alive."""
        lease = self.svc.settings.lease_seconds
        resumed = []
        for job_id in self.svc.store.ids():
            with self._lock:
                if job_id in self._active or job_id in self._queued:
                    continue
            record = self.svc.store.find(job_id)
            if record is None or record["state"] in jobs.TERMINAL:
                continue
            private = record.get("mlapi", {})
            if private.get("trigger") != "rest":
                continue
            if time.time() - float(private.get("heartbeat", 0)) < lease:
                continue
            resumed.append(job_id_of(record))
            self.submit(job_id)
        if resumed:
            log.info("resuming orphaned jobs", extra={"json_fields": {"jobs": resumed}})
        return resumed

    def close(self) -> None:
        self._stop.set()
        for event in list(self._active.values()):
            event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _cancelled() -> ApiError:
    return ApiError(Code.CANCELLED, "The job was cancelled.")
