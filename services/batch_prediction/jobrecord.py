"""The job record: one batch prediction job as it is stored and shown, in Vertex AI's
`BatchPredictionJob` JSON (lowerCamelCase, int64 as strings, enum names). This module is the
only place the record's JSON fields are named; the spec fields (what was asked:
`displayName`, `model`, `inputConfig`, `instanceConfig`, `outputConfig`,
`manualBatchTuningParameters`, `labels`) are `JobSpec`'s (`jobspec`).

    {"name": "projects/P/locations/L/batchPredictionJobs/ID", <the spec's fields>,
     "modelVersionId"?, "outputInfo": {"gcsOutputDirectory"}, "state", "error"?,
     "partialFailures"?, "completionStats", "createTime", "startTime"?, "endTime"?,
     "updateTime", "mlapi": {...}}

`mlapi` is this service's private block, which the REST API never shows:

    {"trigger": "rest" | "pubsub" | "storage", "modelName", "source", "outputDirectory"?,
     "worker", "attempts", "heartbeat",          the claim (see `lease`)
     "inputs", "shardBytes",                      the plan, once made (see `planning`)
     "shards": {"N": [ok, failed]}, "bytesDone", "bytesTotal",     progress
     "predictionUris", "errorUris"}               the files, once the job has ended

A request refused before it became a job (not JSON, an unknown field) is recorded as a FAILED
job without spec, statistics or output. The completion message's body (`completion_body`) is
the public record's summary plus `predictionUris` and `errorUris`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any

from services.batch_prediction import jobspec
from services.batch_prediction.backends.base import Input
from services.batch_prediction.jobspec import JobSpec
from shared.errors import ApiError

QUEUED = "JOB_STATE_QUEUED"
RUNNING = "JOB_STATE_RUNNING"
SUCCEEDED = "JOB_STATE_SUCCEEDED"
FAILED = "JOB_STATE_FAILED"
CANCELLING = "JOB_STATE_CANCELLING"
CANCELLED = "JOB_STATE_CANCELLED"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})
ACTIVE = frozenset({RUNNING, CANCELLING})  # a worker holds the job
# google.cloud.aiplatform.v1.JobState numbers, for `$alt=json;enum-encoding=int`.
STATE_NUMBERS = {
    "JOB_STATE_UNSPECIFIED": 0,
    QUEUED: 1,
    "JOB_STATE_PENDING": 2,
    RUNNING: 3,
    SUCCEEDED: 4,
    FAILED: 5,
    CANCELLING: 6,
    CANCELLED: 7,
}
MAX_PARTIAL_FAILURES = 20  # Vertex: "This field never exceeds 20 entries."
_COMPLETION_FIELDS = (
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


def now_rfc3339(at: float | None = None) -> str:
    moment = dt.datetime.fromtimestamp(time.time() if at is None else at, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclasses.dataclass
class Status:
    """A `google.rpc.Status` as Vertex puts it in `error` and `partialFailures`."""

    code: int
    message: str

    @classmethod
    def of(cls, error: ApiError) -> Status:
        return cls(int(error.code), error.message)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Status:
        return cls(int(data.get("code", 0)), str(data.get("message", "")))


@dataclasses.dataclass
class Private:
    """The `mlapi` block: how the job was started, who holds it, its plan and its files."""

    trigger: str = "rest"
    model_name: str = ""
    source: dict[str, str] = dataclasses.field(default_factory=dict)
    worker: str = ""
    attempts: int = 0  # claims so far; a claim is (worker, attempts)
    heartbeat: float = 0.0  # time.time() of the holder's last write
    inputs: tuple[Input, ...] | None = None  # None: not planned yet
    shard_bytes: int = 0
    shards: dict[int, tuple[int, int]] = dataclasses.field(default_factory=dict)
    bytes_done: int = 0
    bytes_total: int = 0
    prediction_uris: list[str] = dataclasses.field(default_factory=list)
    error_uris: list[str] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "trigger": self.trigger,
            "modelName": self.model_name,
            "source": dict(self.source),
            "worker": self.worker,
            "attempts": self.attempts,
            "heartbeat": self.heartbeat,
        }
        if self.inputs is not None:
            body["inputs"] = [[*item[:5], list(item.header)] for item in self.inputs]
            body["shardBytes"] = self.shard_bytes
        if self.shards:
            body["shards"] = {str(n): list(c) for n, c in sorted(self.shards.items())}
        if self.bytes_total:
            body.update(bytesDone=self.bytes_done, bytesTotal=self.bytes_total)
        if self.prediction_uris or self.error_uris:
            body.update(predictionUris=self.prediction_uris, errorUris=self.error_uris)
        return body

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Private:
        inputs = data.get("inputs")
        return cls(
            trigger=str(data.get("trigger", "rest")),
            model_name=str(data.get("modelName", "")),
            source={str(k): str(v) for k, v in (data.get("source") or {}).items()},
            worker=str(data.get("worker", "")),
            attempts=int(data.get("attempts", 0)),
            heartbeat=float(data.get("heartbeat", 0)),
            inputs=None
            if inputs is None
            else tuple(Input(u, s, g, f, start, tuple(h)) for u, s, g, f, start, h in inputs),
            shard_bytes=int(data.get("shardBytes", 0)),
            shards={int(n): (int(c[0]), int(c[1])) for n, c in data.get("shards", {}).items()},
            bytes_done=int(data.get("bytesDone", 0)),
            bytes_total=int(data.get("bytesTotal", 0)),
            prediction_uris=list(data.get("predictionUris", [])),
            error_uris=list(data.get("errorUris", [])),
        )


@dataclasses.dataclass
class JobRecord:
    name: str
    display_name: str
    spec: JobSpec | None  # None: a request refused before it became a job
    state: str = QUEUED
    model_version_id: str = ""
    output_directory: str = ""  # outputInfo.gcsOutputDirectory
    error: Status | None = None
    partial_failures: list[Status] = dataclasses.field(default_factory=list)
    successful_count: int = 0
    failed_count: int = 0
    incomplete_count: int = -1  # unknown until the job has succeeded
    create_time: str = ""
    start_time: str = ""
    end_time: str = ""
    update_time: str = ""
    private: Private = dataclasses.field(default_factory=Private)

    @classmethod
    def new(
        cls,
        name: str,
        spec: JobSpec,
        *,
        trigger: str,
        model_name: str,
        source: dict[str, str] | None = None,
    ) -> JobRecord:
        """A QUEUED job writing to `{prefix}/prediction-{model}-{create time}`, as Vertex names
        it (or to the spec's explicit output directory)."""
        now = now_rfc3339()
        job_id = name.rsplit("/", 1)[-1]
        directory = spec.output_directory or (
            f"{spec.output_prefix.rstrip('/')}/prediction-{model_name}-{now}"
        )
        return cls(
            name=name,
            display_name=spec.display_name or job_id,
            spec=spec,
            output_directory=directory,
            create_time=now,
            update_time=now,
            private=Private(trigger=trigger, model_name=model_name, source=dict(source or {})),
        )

    @classmethod
    def refused(
        cls, name: str, error: ApiError, *, trigger: str, source: dict[str, str]
    ) -> JobRecord:
        now = now_rfc3339()
        return cls(
            name=name,
            display_name=name.rsplit("/", 1)[-1],
            spec=None,
            state=FAILED,
            error=Status.of(error),
            create_time=now,
            end_time=now,
            update_time=now,
            private=Private(trigger=trigger, source=dict(source)),
        )

    @property
    def job_id(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    # -- what happens to a job ---------------------------------------------------------------

    def holder_is_alive(self, lease_seconds: float) -> bool:
        """A worker holds the job and has written within `lease_seconds`."""
        return self.state in ACTIVE and time.time() - self.private.heartbeat < lease_seconds

    def held_by(self, worker: str, attempt: int) -> bool:
        return (
            self.state in ACTIVE
            and self.private.worker == worker
            and self.private.attempts == attempt
        )

    def claim(self, worker: str) -> None:
        now = now_rfc3339()
        self.state = RUNNING
        self.start_time = self.start_time or now
        self.update_time = now
        self.private.worker = worker
        self.private.heartbeat = time.time()
        self.private.attempts += 1

    def beat(self) -> None:
        self.private.heartbeat = time.time()
        self.update_time = now_rfc3339()

    def record_progress(
        self,
        shards: dict[int, tuple[int, int]],
        totals: tuple[int, int],
        bytes_done: int,
        bytes_total: int,
    ) -> None:
        """The (rows ok, rows failed) of the finished `shards`, the `totals` with the running
        ones, and the input bytes they cover."""
        self.private.shards = dict(shards)
        self.successful_count, self.failed_count = totals
        self.private.bytes_done, self.private.bytes_total = bytes_done, bytes_total
        self.beat()

    def end(
        self,
        state: str,
        error: ApiError | None,
        files: tuple[list[str], list[str]] | None = None,
        totals: tuple[int, int] | None = None,
    ) -> None:
        """The terminal `state`, with `error`, the (predictions, errors) files written and
        the final (rows ok, rows failed)."""
        now = now_rfc3339()
        self.state = state
        if totals is not None:
            self.successful_count, self.failed_count = totals
        self.end_time = self.update_time = now
        self.start_time = self.start_time or now
        if error is not None:
            self.error = Status.of(error)
        if state == SUCCEEDED:
            self.incomplete_count = 0
        if files:
            self.private.prediction_uris, self.private.error_uris = files

    def request_cancel(self) -> None:
        self.state = CANCELLING
        self.update_time = now_rfc3339()

    def progress_share(self) -> float | None:
        """The share of input bytes counted done, 0..1; None before any is."""
        if self.private.bytes_total:
            return min(1.0, self.private.bytes_done / self.private.bytes_total)
        return None

    # -- JSON ------------------------------------------------------------------------------

    def public_json(self) -> dict[str, Any]:
        """What the REST API shows: Vertex's `BatchPredictionJob`."""
        body: dict[str, Any] = {"name": self.name}
        if self.spec is not None:
            body.update(self.spec.to_vertex())
        body["displayName"] = self.display_name
        if self.model_version_id:
            body["modelVersionId"] = self.model_version_id
        if self.output_directory:
            body["outputInfo"] = {"gcsOutputDirectory": self.output_directory}
        body["state"] = self.state
        if self.error is not None:
            body["error"] = self.error.to_json()
        if self.partial_failures:
            body["partialFailures"] = [f.to_json() for f in self.partial_failures]
        if self.spec is not None:
            body["completionStats"] = {
                "successfulCount": str(self.successful_count),
                "failedCount": str(self.failed_count),
                "incompleteCount": str(self.incomplete_count),
            }
        for key, value in (
            ("createTime", self.create_time),
            ("startTime", self.start_time),
            ("endTime", self.end_time),
            ("updateTime", self.update_time),
        ):
            if value:
                body[key] = value
        return body

    def to_json(self) -> dict[str, Any]:
        """What is stored: the public record and the private block."""
        private = self.private.to_json()
        if self.spec is not None and self.spec.output_directory:
            private["outputDirectory"] = self.spec.output_directory
        return {**self.public_json(), "mlapi": private}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        private = data.get("mlapi") or {}
        spec = None
        if "inputConfig" in data:
            spec = dataclasses.replace(
                jobspec.from_vertex({k: v for k, v in data.items() if k != "mlapi"}),
                output_directory=private.get("outputDirectory", ""),
            )
        stats = data.get("completionStats") or {}
        error = data.get("error")
        return cls(
            name=data["name"],
            display_name=str(data.get("displayName", "")),
            spec=spec,
            state=data["state"],
            model_version_id=str(data.get("modelVersionId", "")),
            output_directory=str((data.get("outputInfo") or {}).get("gcsOutputDirectory", "")),
            error=Status.from_json(error) if error else None,
            partial_failures=[Status.from_json(f) for f in data.get("partialFailures", [])],
            successful_count=int(stats.get("successfulCount", 0)),
            failed_count=int(stats.get("failedCount", 0)),
            incomplete_count=int(stats.get("incompleteCount", -1)),
            create_time=str(data.get("createTime", "")),
            start_time=str(data.get("startTime", "")),
            end_time=str(data.get("endTime", "")),
            update_time=str(data.get("updateTime", "")),
            private=Private.from_json(private),
        )

    def completion_body(self) -> dict[str, Any]:
        """The body of the completion message on `OUTPUT_TOPIC`."""
        public = self.public_json()
        body = {key: public[key] for key in _COMPLETION_FIELDS if key in public}
        body["predictionUris"] = list(self.private.prediction_uris)
        body["errorUris"] = list(self.private.error_uris)
        return body
