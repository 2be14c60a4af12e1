"""A sample of served instances and their predictions, written to Cloud Storage as JSONL for
the monitoring step (training-serving skew and prediction drift) to read.

Each instance is kept with probability `REQUEST_LOG_SAMPLE_RATE`, independently. Kept lines are
buffered in memory and written by a background thread (`request-log-writer`) every
`REQUEST_LOG_FLUSH_SECONDS`, or sooner once 1,000 lines wait, one object per endpoint and
version and flush:

    gs://{REQUEST_LOG_BUCKET}/{REQUEST_LOG_PREFIX}/{endpoint}/{model}/{version}/
        {YYYY}/{MM}/{DD}/{HHMMSS}-{pid}-{sequence}.jsonl

one JSON object a line:

    {"time": "2025-01-31T12:00:00.123Z",      when the prediction was served (UTC)
     "endpoint": "iris", "model": "iris",
     "modelVersionId": "2", "deployedModelId": "2",
     "instance": {"sepal_length": 5.1, ...},  keyed by feature name, in schema order;
                                              missing values as null
     "prediction": ...}                       exactly as in the response

The serving path never waits on storage: when 100,000 lines are already waiting (storage
down), new ones are dropped and counted (`mlapi_prediction_request_log_dropped_total`). Lines
still buffered are written when the process exits normally. Instance contents go to storage,
never to the log.
"""

from __future__ import annotations

import atexit
import datetime as dt
import itertools
import logging
import os
import random
import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from services.prediction.metrics import Metrics
from shared.errors import ApiError
from shared.modelruntime import ServedModel
from shared.modelschema import rows_as_objects
from shared.perprocess import PerProcess
from shared.storage import GcsUri, Storage

log = logging.getLogger(__name__)

_FLUSH_LINES = 1_000
_MAX_WAITING = 100_000


class RequestLog:
    def __init__(
        self,
        storage: Storage,
        bucket: str,
        prefix: str,
        sample_rate: float,
        flush_seconds: float,
        metrics: Metrics | None = None,
    ) -> None:
        self.storage = storage
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.sample_rate = sample_rate
        self.flush_seconds = flush_seconds
        self._metrics = metrics
        self._lines: dict[tuple[str, str, str], list[bytes]] = defaultdict(list)
        self._waiting = 0
        self._sequence = itertools.count()
        # Protects `_lines` and `_waiting`.
        self._lock = threading.Lock()
        # Serialises flushes (the writer thread, `flush()` from tests, exit).
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._writer: PerProcess[threading.Thread] = PerProcess(self._start_writer)
        if self.enabled:
            atexit.register(self.close)

    @property
    def enabled(self) -> bool:
        return self.sample_rate > 0

    def record(
        self,
        endpoint: str,
        served: ServedModel,
        matrix: np.ndarray,
        predictions: Sequence[Any],
        deployed_model_id: str | None = None,
    ) -> None:
        """Keep a sample of these instances with their predictions (cheap when disabled).
        `deployed_model_id`: the endpoint's id for the version (default: the version id, as on
        a model's own endpoint)."""
        if not self.enabled:
            return
        if self.sample_rate >= 1:
            chosen = list(range(len(predictions)))
        else:
            chosen = [i for i in range(len(predictions)) if random.random() < self.sample_rate]  # noqa: S311
        if not chosen:
            return
        version = served.version
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        instances = rows_as_objects(matrix[chosen], served.schema)
        lines = [
            orjson.dumps(
                {
                    "time": now,
                    "endpoint": endpoint,
                    "model": version.name,
                    "modelVersionId": version.version,
                    "deployedModelId": deployed_model_id or version.version,
                    "instance": instance,
                    "prediction": predictions[i],
                },
                option=orjson.OPT_SERIALIZE_NUMPY,
            )
            for i, instance in zip(chosen, instances, strict=True)
        ]
        with self._lock:
            room = _MAX_WAITING - self._waiting
            if room < len(lines):
                if self._metrics is not None:
                    self._metrics.count_dropped(len(lines) - max(room, 0))
                lines = lines[: max(room, 0)]
            self._lines[(endpoint, version.name, version.version)].extend(lines)
            self._waiting += len(lines)
            full = self._waiting >= _FLUSH_LINES
        self._ensure_writer()
        if full:
            self._wake.set()

    def flush(self) -> list[GcsUri]:
        """Write everything waiting now; the objects written."""
        with self._flush_lock:
            with self._lock:
                batches, self._lines = self._lines, defaultdict(list)
                self._waiting = 0
            written = []
            stamp = dt.datetime.now(dt.UTC)
            for (endpoint, model, version), lines in batches.items():
                if not lines:
                    continue
                name = (
                    f"{self.prefix}/{endpoint}/{model}/{version}/{stamp:%Y/%m/%d/%H%M%S}-"
                    f"{os.getpid()}-{next(self._sequence):06d}.jsonl"
                )
                uri = GcsUri(self.bucket, name)
                try:
                    self.storage.write(uri, b"\n".join(lines) + b"\n", "application/x-ndjson")
                except ApiError as error:
                    log.warning(
                        "request log write failed; lines dropped",
                        extra={
                            "json_fields": {
                                "uri": str(uri),
                                "lines": len(lines),
                                "error": str(error),
                            }
                        },
                    )
                    if self._metrics is not None:
                        self._metrics.count_dropped(len(lines))
                    continue
                written.append(uri)
            return written

    def _ensure_writer(self) -> None:
        self._writer.get()

    def _start_writer(self) -> threading.Thread:
        writer = threading.Thread(target=self._run, name="request-log-writer", daemon=True)
        writer.start()
        return writer

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                log.exception("request log flush failed")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        try:
            self.flush()
        except Exception:
            log.exception("request log flush at exit failed")
