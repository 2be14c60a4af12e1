"""Speech's long-running operations, kept in Cloud Storage so any instance answers a poll.

An operation is the `google.longrunning.Operation` JSON at
`gs://{RESULTS_BUCKET}/speech/operations/{name}.json` for v1's LongRunningRecognize, named by a
bare number as Google's are, and `speech/v2/projects/P/locations/L/operations/N.json` for v2's
BatchRecognize (`Kind` holds the differences); its request sits beside it
(`{name}.request.json`). The job runs on a thread pool of
`SPEECH_LRO_WORKERS` in the instance that accepted it, which rewrites the operation with
`progressPercent` and `lastUpdateTime` as chunks finish, and finally `done` with `response`
(`LongRunningRecognizeResponse`) or `error`.

A restart loses none: the accepting instance rewrites `lastUpdateTime` of its queued and
running jobs every quarter of `SPEECH_STALE_SECONDS`; a poll that finds an operation not done
and not updated for longer (its instance is gone) claims it, by rewriting it at the
generation it read, and runs the job again from its stored request.

The JSON holds only Operation fields: api-core's REST poller parses it with unknown fields
rejected.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

from shared import protojson
from shared.errors import ApiError, Code, not_found
from shared.gapictypes import message_types
from shared.storage import GcsUri, Storage

speech = message_types("google.cloud.speech_v1")
speech_v2 = message_types("google.cloud.speech_v2")

log = logging.getLogger("services.speech.operations")

V1 = "type.googleapis.com/google.cloud.speech.v1."
V2 = "type.googleapis.com/google.cloud.speech.v2."
METADATA_TYPE = V1 + "LongRunningRecognizeMetadata"
RESPONSE_TYPE = V1 + "LongRunningRecognizeResponse"
PREFIX = "speech/operations"
V2_PREFIX = "speech/v2"
_V2_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/operations/\d+$")


@dataclasses.dataclass(frozen=True)
class Kind:
    """What differs between v1's LongRunningRecognize operations (bare numbers, metadata
    `startTime`/`lastUpdateTime`) and v2's BatchRecognize ones
    (`projects/P/locations/L/operations/N`, `OperationMetadata` with `createTime`/`updateTime`)."""

    version: str
    request_type: type
    metadata_type: str
    response_type: str
    created: str
    updated: str

    def new_name(self, request: Any) -> str:
        number = str(random.getrandbits(63) or 1)
        if self.version == "v1":
            return number
        parent = request.recognizer.split("/recognizers/")[0]
        return f"{parent}/operations/{number}"

    def valid(self, name: str) -> bool:
        return name.isdigit() if self.version == "v1" else bool(_V2_NAME.match(name))

    def first_metadata(self, request: Any) -> dict[str, Any]:
        if self.version == "v1":
            return {"uri": request.audio.uri} if request.audio.uri else {}
        return {"resource": request.recognizer,
                "method": "google.cloud.speech.v2.Speech.BatchRecognize"}  # fmt: skip

    def path(self, name: str) -> str:
        return f"{PREFIX}/{name}" if self.version == "v1" else f"{V2_PREFIX}/{name}"

    def folder(self, parent: str) -> tuple[str, str]:
        """(storage folder, name prefix) of the operations under `parent` (v2: P/L)."""
        if self.version == "v1":
            return f"{PREFIX}/", ""
        return f"{V2_PREFIX}/{parent}/operations/", f"{parent}/operations/"


V1_KIND = Kind("v1", speech.LongRunningRecognizeRequest, METADATA_TYPE, RESPONSE_TYPE,
               "startTime", "lastUpdateTime")  # fmt: skip
V2_KIND = Kind("v2", speech_v2.BatchRecognizeRequest, V2 + "OperationMetadata",
               V2 + "BatchRecognizeResponse", "createTime", "updateTime")  # fmt: skip
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Progress is written at most this often (each write is one storage request).
PROGRESS_EVERY_S = 2.0


class _Job:
    """A job queued or running in this instance: its operation JSON, the lock that orders the
    writes of it (progress, heartbeat, the final one), and when it was last written."""

    def __init__(self, name: str, operation: dict[str, Any]) -> None:
        self.name = name
        self.operation = operation
        self.lock = threading.Lock()
        self.last_write = 0.0


Runner = Callable[[Any, Callable[[float], None]], Any]


def now_rfc3339() -> str:
    return (
        datetime.datetime.now(datetime.UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def _age_seconds(stamp: str) -> float:
    when = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (datetime.datetime.now(datetime.UTC) - when).total_seconds()


class Operations:
    """The operations of one instance's bucket, and the pool that runs their jobs."""

    def __init__(
        self,
        storage: Storage,
        bucket: Callable[[], str],
        run: Runner,
        *,
        pool: concurrent.futures.Executor,
        kind: Kind = V1_KIND,
        stale_seconds: float = 300.0,
    ) -> None:
        self._storage = storage
        self._bucket = bucket
        self._run = run
        self._kind = kind
        self._stale_seconds = stale_seconds
        self._pool = pool
        # Jobs queued or running here, by operation name; protected by `_jobs_lock`.
        self._jobs: dict[str, _Job] = {}
        self._jobs_lock = threading.Lock()
        # A queued job is not stale: the heartbeat rewrites `lastUpdateTime` of every job of
        # this instance well within `stale_seconds`, so only a dead instance's jobs go stale.
        self._stopping = threading.Event()
        self._heartbeat_s = max(0.5, stale_seconds / 4)
        threading.Thread(target=self._beat, name="speech-lro-heartbeat", daemon=True).start()

    def start(self, request: Any) -> dict[str, Any]:
        """Store a new operation for `request`, queue its job; its first answer."""
        kind = self._kind
        name = kind.new_name(request)
        now = now_rfc3339()
        metadata: dict[str, Any] = {"@type": kind.metadata_type, kind.created: now,
                                    kind.updated: now, **kind.first_metadata(request)}  # fmt: skip
        operation = {"name": name, "metadata": metadata}
        self._storage.write(
            self._uri(name, "request.json"), protojson.to_json(request), "application/json"
        )
        self._storage.write(self._uri(name), orjson.dumps(operation), "application/json")
        first = orjson.loads(orjson.dumps(operation))  # the job may change it meanwhile
        self._submit(name, request, operation)
        return first

    def get(self, name: str) -> dict[str, Any]:
        found = self._read(name)
        operation, generation = found
        with self._jobs_lock:
            here = name in self._jobs
        if not here and not operation.get("done") and self._is_stale(operation):
            self._take_over(name, operation, generation)
        return operation

    def list(self, page_size: int, page_token: str, parent: str = "") -> dict[str, Any]:
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        folder, name_prefix = self._kind.folder(parent)
        objects, _ = self._storage.list_dir(self._bucket(), folder)
        names = sorted(
            name_prefix + o[len(folder) : -len(".json")]
            for o in objects
            if o.endswith(".json") and not o.endswith(".request.json")
        )
        if page_token:
            names = [n for n in names if n > page_token]
        page, rest = names[:size], names[size:]
        found = []
        for name in page:
            try:
                found.append(self._read(name)[0])
            except ApiError as error:
                if error.code != Code.NOT_FOUND:
                    raise
        body: dict[str, Any] = {"operations": found} if found else {}
        if rest:
            body["nextPageToken"] = page[-1]
        return body

    def close(self) -> None:
        self._stopping.set()

    # the job --------------------------------------------------------------------------------

    def _submit(self, name: str, request: Any, operation: dict[str, Any]) -> None:
        job = _Job(name, operation)
        with self._jobs_lock:
            self._jobs[name] = job
        self._pool.submit(self._execute, job, request)

    def _beat(self) -> None:
        while not self._stopping.wait(self._heartbeat_s):
            with self._jobs_lock:
                jobs = list(self._jobs.values())
            for job in jobs:
                with job.lock:
                    if job.operation.get("done"):
                        continue
                    job.operation["metadata"][self._kind.updated] = now_rfc3339()
                    try:
                        self._write(job.name, job.operation)
                    except ApiError:
                        log.warning("heartbeat not written", extra={
                            "json_fields": {"operation": job.name}})  # fmt: skip

    def _execute(self, job: _Job, request: Any) -> None:
        name, operation = job.name, job.operation
        metadata = operation["metadata"]

        def progress(percent: float) -> None:
            with job.lock:
                if time.monotonic() - job.last_write < PROGRESS_EVERY_S:
                    return
                job.last_write = time.monotonic()
                metadata["progressPercent"] = int(percent)
                metadata[self._kind.updated] = now_rfc3339()
                self._write(name, operation)

        try:
            response = self._run(request, progress)
            result: dict[str, Any] = {"response": {"@type": self._kind.response_type,
                                                    **protojson.to_dict(response)}}  # fmt: skip
            if self._kind.version == "v1" and request.output_config.gcs_uri:
                self._storage.write(
                    request.output_config.gcs_uri, protojson.to_json(response), "application/json"
                )
        except ApiError as error:
            result = {"error": {"code": int(error.code), "message": error.message}}
        except Exception:
            log.exception("speech job failed", extra={"json_fields": {"operation": name}})
            result = {"error": {"code": int(Code.INTERNAL), "message": "Internal error."}}
        with job.lock:
            metadata["progressPercent"] = (
                100 if "response" in result else metadata.get("progressPercent", 0)
            )
            metadata[self._kind.updated] = now_rfc3339()
            operation.update({"done": True, **result})
            try:
                self._write(name, operation)
            except ApiError:
                log.exception("could not store a finished operation", extra={
                    "json_fields": {"operation": name}})  # fmt: skip
        with self._jobs_lock:
            self._jobs.pop(name, None)
        log.info(
            "speech job finished",
            extra={"json_fields": {"operation": name, "ok": "response" in result}},
        )

    def _is_stale(self, operation: dict[str, Any]) -> bool:
        stamp = operation.get("metadata", {}).get(self._kind.updated)
        try:
            return stamp is not None and _age_seconds(stamp) > self._stale_seconds
        except ValueError:
            return False

    def _take_over(self, name: str, operation: dict[str, Any], generation: int) -> None:
        """Run the job of an operation whose instance is gone, if no other poll claimed it."""
        found = self._storage.read_with_generation(self._uri(name, "request.json"))
        if found is None:
            return
        operation["metadata"][self._kind.updated] = now_rfc3339()
        try:
            self._storage.write_checked(
                self._uri(name), orjson.dumps(operation), generation, "application/json"
            )
        except ApiError as error:
            if error.code == Code.ABORTED:
                return  # another instance claimed it first
            raise
        request = protojson.parse(self._kind.request_type, found[0])
        log.warning("taking over a stale operation", extra={"json_fields": {"operation": name}})
        self._submit(name, request, operation)

    # storage --------------------------------------------------------------------------------

    def _read(self, name: str) -> tuple[dict[str, Any], int]:
        if not self._kind.valid(name):
            raise not_found(f"Operation {name} not found.")
        found = self._storage.read_with_generation(self._uri(name))
        if found is None:
            raise not_found(f"Operation {name} not found.")
        return orjson.loads(found[0]), found[1]

    def _write(self, name: str, operation: dict[str, Any]) -> None:
        self._storage.write(self._uri(name), orjson.dumps(operation), "application/json")

    def _uri(self, name: str, suffix: str = "json") -> GcsUri:
        return GcsUri(self._bucket(), f"{self._kind.path(name)}.{suffix}")
