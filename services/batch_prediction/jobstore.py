"""Job records in Cloud Storage: `gs://JOBS_BUCKET/JOBS_PREFIX/{job id}.json`, one JSON object
per job (`jobrecord`), so jobs survive a restart of the service.

Updates are read-modify-write with an `ifGenerationMatch` precondition, retried on a conflict,
so two writers (two instances, a worker's progress and a cancel) never lose each other's
change on real Cloud Storage; within one process a lock per job serialises them too.
gcp-storage-emulator ignores preconditions, so between processes on the emulator the last
writer wins; what keeps a job consistent there is that every write of a running job checks
who holds it (`lease`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import orjson

from services.batch_prediction.jobrecord import JobRecord
from shared.errors import ApiError, Code, not_found
from shared.storage import GcsUri, Storage

log = logging.getLogger(__name__)

_ATTEMPTS = 5
_CONTENT_TYPE = "application/json"


class JobStore:
    def __init__(self, bucket: str, prefix: str, storage: Storage) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.storage = storage
        self._locks: dict[str, threading.Lock] = {}
        # Protects `_locks` (one lock per job id, held during a read-modify-write) and
        # `_unreadable`.
        self._guard = threading.Lock()
        self._unreadable: set[str] = set()  # ids already reported (under `_guard`)
        self._bucket_checked = False

    def _uri(self, job_id: str) -> GcsUri:
        return GcsUri(self.bucket, f"{self.prefix}/{job_id}.json")

    def _lock(self, job_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(job_id, threading.Lock())

    def ensure_bucket(self) -> None:
        if not self._bucket_checked:
            self.storage.ensure_bucket(self.bucket)
            self._bucket_checked = True

    def get(self, job_id: str) -> JobRecord:
        found = self._read(job_id)
        if found is None:
            raise not_found(f"BatchPredictionJob {job_id!r} was not found.")
        return found[0]

    def find(self, job_id: str) -> JobRecord | None:
        found = self._read(job_id)
        return found[0] if found else None

    def _read(self, job_id: str) -> tuple[JobRecord, int] | None:
        found = self.storage.read_with_generation(self._uri(job_id))
        if found is None:
            return None
        try:
            return JobRecord.from_json(orjson.loads(found[0])), found[1]
        except (ValueError, KeyError, TypeError, ApiError):
            raise ApiError(Code.DATA_LOSS, f"The record of job {job_id!r} is unreadable.") from None

    def listed(self, job_id: str) -> JobRecord | None:
        """The record, for a listing or a recovery pass: None when it is gone, or unreadable
        (reported once in the log, never fatal to the listing: one bad object must not take
        every page that holds it down)."""
        try:
            return self.find(job_id)
        except ApiError as error:
            if error.code != Code.DATA_LOSS:
                raise
            with self._guard:
                first = job_id not in self._unreadable
                self._unreadable.add(job_id)
            if first:
                log.error(
                    "job record unreadable; left out of listings",
                    extra={"json_fields": {"jobId": job_id, "uri": str(self._uri(job_id))}},
                )
            return None

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        """Store a new record; an existing one is returned instead (False: not created)."""
        self.ensure_bucket()
        job_id = record.job_id
        with self._lock(job_id):
            found = self._read(job_id)
            if found is not None:
                return found[0], False
            self.storage.write_checked(self._uri(job_id), _dump(record), 0, _CONTENT_TYPE)
            return record, True

    def update(self, job_id: str, change: Callable[[JobRecord], JobRecord | None]) -> JobRecord:
        """Apply `change` to the current record (it may change it in place) and store it;
        `change` may return None to leave the record as it is, or raise to write nothing."""
        for attempt in range(_ATTEMPTS):
            with self._lock(job_id):
                found = self._read(job_id)
                if found is None:
                    raise not_found(f"BatchPredictionJob {job_id!r} was not found.")
                record, generation = found
                changed = change(record)
                if changed is None:
                    return record
                try:
                    self.storage.write_checked(
                        self._uri(job_id), _dump(changed), generation, _CONTENT_TYPE
                    )
                    return changed
                except ApiError as exc:
                    if exc.code != Code.ABORTED or attempt == _ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")

    def ids(self) -> list[str]:
        """Every job id, sorted (REST-created ids sort by creation time)."""
        self.ensure_bucket()
        objects, _ = self.storage.list_dir(self.bucket, f"{self.prefix}/")
        start = len(self.prefix) + 1
        return sorted(name[start:-5] for name in objects if name.endswith(".json"))


def _dump(record: JobRecord) -> bytes:
    return orjson.dumps(record.to_json())
