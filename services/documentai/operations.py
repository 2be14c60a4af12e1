"""Long-running operations of `batchProcess`, kept as JSON in the results bucket
(`{prefix}/{operationId}.json`), so whichever instance a poll lands on answers it.

An operation is `projects/{p}/locations/{l}/operations/{id}` (a 19-digit id, as Google's are
numbers). Its record is the Operation JSON itself, exactly as returned: `metadata` holds a
`BatchProcessMetadata` with its `@type`; once `done`, `response` holds an empty
`BatchProcessResponse` (every document processed) or `error` ("Failed to process all
documents.", as Google answers when any failed; each document's own status is in the
metadata). Cancelling marks the record CANCELLING; the instance running the batch reads the
record between documents, stops, and ends it CANCELLED with error CANCELLED.
"""

from __future__ import annotations

import datetime
import json
import secrets
import threading
from typing import Any

from shared import protojson
from shared.errors import ApiError, Code, invalid_argument, not_found
from shared.gapictypes import message_types
from shared.storage import GcsUri, Storage

documentai = message_types("google.cloud.documentai_v1")

METADATA_TYPE = "type.googleapis.com/google.cloud.documentai.v1.BatchProcessMetadata"
RESPONSE_TYPE = "type.googleapis.com/google.cloud.documentai.v1.BatchProcessResponse"
State = documentai.BatchProcessMetadata.State
PREFIX = "documentai/operations"
# Read-modify-write rounds before giving up when other instances keep writing a record.
_ATTEMPTS = 5


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    return str(10**18 + secrets.randbelow(9 * 10**18))


class Operations:
    def __init__(self, storage: Storage, bucket: str | None) -> None:
        self._storage = storage
        self._bucket = bucket
        # Protects read-modify-write of one instance's running records (cancels from other
        # instances are read back before each write, see `update`).
        self._lock = threading.Lock()

    def _location(self, op_id: str) -> GcsUri:
        if not self._bucket:
            raise ApiError(
                Code.FAILED_PRECONDITION,
                "batchProcess needs RESULTS_BUCKET (where operations are kept); set it.",
            )
        return GcsUri(self._bucket, f"{PREFIX}/{op_id}.json")

    def create(self, name: str, metadata: documentai.BatchProcessMetadata) -> dict[str, Any]:
        record = {"name": name, "metadata": _metadata_json(metadata), "done": False}
        self._write(name, record)
        return record

    def get(self, name: str) -> dict[str, Any]:
        return self._get(name)[0]

    def _get(self, name: str) -> tuple[dict[str, Any], int]:
        """The record and its object's generation (for a write that must not lose a cancel
        written meanwhile by another instance)."""
        op_id = name.rsplit("/", 1)[-1]
        if not op_id.isdigit():
            raise not_found(f"Operation {name!r} not found.")
        found = self._storage.read_with_generation(self._location(op_id))
        if found is None:
            raise not_found(f"Operation {name!r} not found.")
        record = json.loads(found[0])
        if record.get("name") != name and not _same_operation(record.get("name", ""), name):
            raise not_found(f"Operation {name!r} not found.")
        return record, found[1]

    def list(self, parent: str) -> list[dict[str, Any]]:
        if not self._bucket:
            return []
        objects, _ = self._storage.list_dir(self._bucket, f"{PREFIX}/")
        found = []
        for object_name in sorted(objects):
            try:
                data = self._storage.read(GcsUri(self._bucket, object_name))
                record = json.loads(data)
            except (ApiError, ValueError):
                continue
            if record.get("name", "").startswith(parent + "/operations/"):
                found.append(record)
        return found

    def update(
        self,
        name: str,
        metadata: documentai.BatchProcessMetadata,
        *,
        done: bool = False,
        error: ApiError | None = None,
    ) -> bool:
        """Write the batch's progress; False (nothing written) when a cancel has arrived and
        the batch should stop."""
        with self._lock:
            for attempt in range(_ATTEMPTS):
                current, generation = self._get(name)
                state = current["metadata"].get("state")
                cancelling = state in ("CANCELLING", "CANCELLED")
                if cancelling and not done:
                    return False
                if cancelling:
                    metadata.state = State.CANCELLED
                    metadata.state_message = "Cancelled on request."
                    error = ApiError(Code.CANCELLED, "Operation was cancelled.")
                metadata.update_time = now()
                record: dict[str, Any] = {
                    "name": name,
                    "metadata": _metadata_json(metadata),
                    "done": done,
                }
                if done:
                    if error is not None:
                        record["error"] = {"code": int(error.code), "message": error.message}
                    else:
                        record["response"] = {"@type": RESPONSE_TYPE}
                if self._write_checked(name, record, generation, last=attempt == _ATTEMPTS - 1):
                    return True
            return True

    def cancel(self, name: str) -> None:
        with self._lock:
            for attempt in range(_ATTEMPTS):
                record, generation = self._get(name)
                if record.get("done"):
                    return  # Google: cancelling a finished operation does nothing
                record["metadata"]["state"] = "CANCELLING"
                record["metadata"]["updateTime"] = now()
                if self._write_checked(name, record, generation, last=attempt == _ATTEMPTS - 1):
                    return

    def _write_checked(
        self, name: str, record: dict[str, Any], generation: int, *, last: bool
    ) -> bool:
        """Write unless the record changed since it was read (another instance cancelled);
        False to read it again. The last attempt raises ABORTED (retried by the caller)."""
        op_id = name.rsplit("/", 1)[-1]
        try:
            self._storage.write_checked(
                self._location(op_id),
                json.dumps(record, separators=(",", ":")),
                generation,
                content_type="application/json",
            )
        except ApiError as error:
            if error.code == Code.ABORTED and not last:
                return False
            raise
        return True

    def _write(self, name: str, record: dict[str, Any]) -> None:
        op_id = name.rsplit("/", 1)[-1]
        self._storage.write(
            self._location(op_id),
            json.dumps(record, separators=(",", ":")),
            content_type="application/json",
        )


def _metadata_json(metadata: documentai.BatchProcessMetadata) -> dict[str, Any]:
    return {"@type": METADATA_TYPE, **protojson.to_dict(metadata)}


def _same_operation(stored: str, asked: str) -> bool:
    """`projects/P/operations/ID` names the same operation as `projects/P/locations/L/...`."""
    s, a = stored.split("/"), asked.split("/")
    return len(a) == 4 and len(s) == 6 and a[1] == s[1] and a[3] == s[5]


def render(record: dict[str, Any], enums_as_ints: bool) -> dict[str, Any]:
    """The stored record as the client asked for enums (names are stored)."""
    if not enums_as_ints or "metadata" not in record:
        return record
    metadata = dict(record["metadata"])
    state = metadata.get("state")
    if isinstance(state, str):
        metadata["state"] = int(State[state])
    statuses = []
    for status in metadata.get("individualProcessStatuses", []):
        review = status.get("humanReviewStatus")
        if review and isinstance(review.get("state"), str):
            review = {**review, "state": int(documentai.HumanReviewStatus.State[review["state"]])}
            status = {**status, "humanReviewStatus": review}
        statuses.append(status)
    if statuses:
        metadata["individualProcessStatuses"] = statuses
    return {**record, "metadata": metadata}


def check_page_size(value: str | None) -> int:
    if value is None or value == "":
        return 100
    if not value.isdigit():
        raise invalid_argument(f"Invalid value for pageSize: {value!r}.")
    return max(1, min(int(value), 1000))
