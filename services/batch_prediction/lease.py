"""A worker's hold on one running job, from its claim to its end.

A worker (one per process) claims a job by writing `RUNNING`, its id and a heartbeat to the
record (`Jobs.run`); the claim is (worker, attempts). While the job runs here, a thread
(`batch-heartbeat-*`) writes the heartbeat and the progress every `HEARTBEAT_SECONDS`, from
the claim on, whatever the engine is doing (loading the model, planning, spawning processes,
a Beam pipeline that reports nothing until it ends), so no other worker takes the job for
orphaned while it is alive.

Every write this worker makes to the record after its claim goes through `Lease.update`,
which applies it only while the record still names this claim and the job has not ended. A
worker whose heartbeat lapsed anyway (a stalled process, storage unreachable for longer than
`LEASE_SECONDS`) may find that another worker has taken the job over, or already finished
it: then it stops at its next chunk (`LeaseLost`) and writes nothing more, neither progress
nor an end. Without this check a worker that lost the job overwrote the other's counts (the
job SUCCEEDED with the counts of a run that had barely begun).

A cancel seen in the record (CANCELLING, written by another process), or signalled in this
process, stops the job at the next chunk (`Cancelled`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from services.batch_prediction.backends.base import Interrupted
from services.batch_prediction.jobrecord import CANCELLING, JobRecord
from services.batch_prediction.jobstore import JobStore
from shared.errors import ApiError

log = logging.getLogger(__name__)


class Cancelled(Interrupted):
    """The job was cancelled; it ends CANCELLED."""


class LeaseLost(Interrupted):
    """Another worker holds the job now, or it has ended: this worker stops, writing nothing."""


class Lease:
    def __init__(
        self,
        store: JobStore,
        record: JobRecord,
        *,
        heartbeat_seconds: float,
        cancel: threading.Event,
    ) -> None:
        self._store = store
        self.job_id = record.job_id
        self.worker = record.private.worker
        self.attempt = record.private.attempts
        self._seconds = heartbeat_seconds
        self._cancel = cancel
        self._lost = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        # Protects the counts below: the job's thread adds to them, the heartbeat writes them.
        self._lock = threading.Lock()
        self._tracking = False  # False until the plan is known: heartbeats carry no counts
        self._shards: dict[int, tuple[int, int]] = {}  # finished shard -> (ok, failed)
        self._running = [0, 0, 0]  # the running shards' rows ok, rows failed, bytes
        self._sizes: dict[int, int] = {}  # shard -> input bytes

    # -- the claim -------------------------------------------------------------------------

    def holds(self, record: JobRecord) -> bool:
        return record.held_by(self.worker, self.attempt)

    def update(self, change: Callable[[JobRecord], JobRecord | None]) -> JobRecord:
        """Apply `change` to the record only while this claim holds it; LeaseLost otherwise."""

        def fenced(current: JobRecord) -> JobRecord | None:
            if not self.holds(current):
                self._lost.set()
                raise LeaseLost(
                    f"Job {self.job_id} is now {current.state}, held by "
                    f"{current.private.worker or 'nobody'} (attempt {current.private.attempts})."
                )
            return change(current)

        return self._store.update(self.job_id, fenced)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._beat, name=f"batch-heartbeat-{self.job_id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """No more heartbeats (before the job's end is written: the end is the claim's last
        write)."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _beat(self) -> None:
        while not self._stopped.wait(self._seconds):
            try:
                self.flush()
            except LeaseLost as exc:  # the job's thread stops at its next chunk
                log.warning(
                    "job taken over by another worker",
                    extra={"json_fields": {"job": self.job_id, "reason": str(exc)}},
                )
                return
            except ApiError as exc:  # storage unreachable: try again at the next beat
                log.warning(
                    "job heartbeat failed",
                    extra={"json_fields": {"job": self.job_id, "error": exc.message}},
                )
            except Exception:
                log.exception("job heartbeat failed", extra={"json_fields": {"job": self.job_id}})

    # -- progress (`backends.base.Progress`) ------------------------------------------------

    def track(self, done: dict[int, tuple[int, int]], sizes: dict[int, int]) -> None:
        """From now on the heartbeat carries counts: `done` shards (kept from an earlier run)
        and what is scored here; `sizes` are every shard's input bytes."""
        with self._lock:
            self._shards = dict(done)
            self._sizes = dict(sizes)
            self._tracking = True

    @property
    def shards(self) -> dict[int, tuple[int, int]]:
        with self._lock:
            return dict(self._shards)

    @property
    def totals(self) -> tuple[int, int]:
        with self._lock:
            return self._totals()

    def _totals(self) -> tuple[int, int]:
        ok = sum(c[0] for c in self._shards.values()) + self._running[0]
        failed = sum(c[1] for c in self._shards.values()) + self._running[1]
        return ok, failed

    def chunk(self, ok: int, failed: int, size: int = 0) -> None:
        with self._lock:
            self._running[0] += ok
            self._running[1] += failed
            self._running[2] += size
        self.check()

    def shard_done(self, number: int, ok: int, failed: int) -> None:
        with self._lock:
            self._shards[number] = (ok, failed)
            self._running = [0, 0, 0]
        self.flush()
        self.check()

    def check(self) -> None:
        if self._lost.is_set():
            raise LeaseLost(f"Job {self.job_id} is held by another worker now.")
        if self._cancel.is_set():
            raise Cancelled

    def flush(self) -> JobRecord:
        """Write the heartbeat (and the counts, once tracking) now."""

        def write(current: JobRecord) -> JobRecord:
            if current.state == CANCELLING:
                self._cancel.set()
            with self._lock:
                if not self._tracking:
                    current.beat()
                    return current
                done = sum(self._sizes.get(n, 0) for n in self._shards) + self._running[2]
                current.record_progress(
                    self._shards, self._totals(), done, sum(self._sizes.values())
                )
            return current

        return self.update(write)
