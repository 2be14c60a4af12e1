"""Job records in Cloud Storage: `gs://JOBS_BUCKET/JOBS_PREFIX/{job id}.json`, one JSON object
per job (`services.batch_prediction.jobs`), so jobs survive a restart of the service.

Updates are read-modify-write with an `ifGenerationMatch` precondition, retried on a conflict,
so two writers (a worker's progress, a cancel) never lose each other's change on real Cloud
Storage; within one process a lock per job serialises them too (gcp-storage-emulator ignores
preconditions).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from shared.errors import ApiError, Code, not_found
from shared.storage import GcsUri, Storage

Record = dict[str, Any]
_ATTEMPTS = 5


class JobStore:
    def __init__(self, bucket: str, prefix: str, storage: Storage | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.storage = storage or Storage()
        self._locks: dict[str, threading.Lock] = {}
        # Protects `_locks` (one lock per job id, held during a read-modify-write).
        self._guard = threading.Lock()
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

    def get(self, job_id: str) -> Record:
        found = self._read(job_id)
        if found is None:
            raise not_found(f"BatchPredictionJob {job_id!r} was not found.")
        return found[0]

    def find(self, job_id: str) -> Record | None:
        found = self._read(job_id)
        return found[0] if found else None

    def _read(self, job_id: str) -> tuple[Record, int] | None:
        found = self.storage.read_with_generation(self._uri(job_id))
        if found is None:
            return None
        try:
            return json.loads(found[0]), found[1]
        except ValueError:
            raise ApiError(Code.DATA_LOSS, f"The record of job {job_id!r} is not JSON.") from None

    def create(self, job_id: str, record: Record) -> tuple[Record, bool]:
        """Store a new record; an existing one is returned instead (False: not created)."""
        self.ensure_bucket()
        with self._lock(job_id):
            found = self._read(job_id)
            if found is not None:
                return found[0], False
            self.storage.write_checked(self._uri(job_id), _dump(record), 0, "application/json")
            return record, True

    def update(self, job_id: str, change: Callable[[Record], Record | None]) -> Record:
        """Apply `change` to the current record and store it; `change` may return None to
        leave the record as it is."""
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
                        self._uri(job_id), _dump(changed), generation, "application/json"
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


def _dump(record: Record) -> str:
    return json.dumps(record, separators=(",", ":"))
